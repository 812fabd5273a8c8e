"""Every tool that takes a path refuses one no file could have, as an invalid argument, changing nothing."""

from __future__ import annotations

from typing import Any

from collab_mcp_core.testing import connect

PATH_ARGUMENTS = ("path",)
BAD_PATHS = ("a\x00.ipynb", "notes%00.txt", "sub/\x1b[2J.md")


def filler(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value of the argument's type, for the other required arguments."""
    if "$ref" in schema:  # a model: fill its required fields
        model = defs[schema["$ref"].rsplit("/", 1)[1]]
        return {k: filler(model["properties"][k], defs) for k in model.get("required", [])}
    if "anyOf" in schema:
        return filler(schema["anyOf"][0], defs)
    if "enum" in schema:
        return schema["enum"][0]
    kinds = [schema.get("type")]
    least = schema.get("minimum", 0)
    for kind, value in (("integer", least), ("number", least), ("boolean", False), ("object", {}), ("array", []), ("string", "x")):
        if kind in kinds:
            return value
    return "x"


async def test_control_characters_in_any_path_argument_are_an_invalid_argument(collab_server):
    (collab_server.root / "keep.txt").write_text("unchanged\n")
    before = sorted(p.name for p in collab_server.root.rglob("*"))
    checked = []
    async with connect(collab_server) as session:
        for tool in (await session.list_tools()).tools:
            properties = tool.input_schema.get("properties", {})
            for name in (n for n in PATH_ARGUMENTS if n in properties):
                defs = tool.input_schema.get("$defs", {})
                args = {k: filler(properties[k], defs) for k in tool.input_schema.get("required", []) if k != name}
                for bad in BAD_PATHS:
                    result = await session.call_tool(tool.name, {**args, name: bad})
                    assert result.is_error, (tool.name, name, bad, result.structured_content)
                    assert result.structured_content["code"] == "invalid_argument", (tool.name, result.content[0].text)
                    assert "control characters" in result.content[0].text, (tool.name, result.content[0].text)
                checked.append(tool.name)
    assert {"get_notebook", "insert_notebook_cell", "update_document", "get_user_cursors"} <= set(checked)
    assert sorted(p.name for p in collab_server.root.rglob("*")) == before
    assert not collab_server.tracebacks()
