"""Every installed pack's tools follow docs/conventions.md: one name, one meaning."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field

from collab_mcp_core.arguments import old_names
from collab_mcp_core.packs import PackManager
from collab_mcp_core.registry import ToolRegistry
from collab_mcp_core.schemas import input_schema

PAGE = (Path(__file__).parent.parent / "docs" / "conventions.md").read_text()


def section(title: str) -> list[list[str]]:
    """The rows of the table under ``## title``, as cells without their backticks."""
    text = PAGE.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]  # without the header


def names_in(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


TYPES = {name: row[1] for row in section("Names") for name in names_in(row[0])}
SYNONYMS = {bad: names_in(row[1])[0] for row in section("Synonyms no tool should use") for bad in names_in(row[0])}
# (tool, old name, new name) for every renamed argument: still accepted, never advertised.
RENAMED = [
    (tool, names_in(row[1])[0], names_in(row[2])[0]) for row in section("Old names") for tool in names_in(row[0])
]


def json_type(prop: dict) -> str:
    if "type" in prop:
        return prop["type"]
    return "object" if "$ref" in prop else "?"


def breaches(tool: str, schema: dict) -> list[str]:
    """What in one tool's input schema breaks the conventions."""
    found = []
    for name, prop in schema.get("properties", {}).items():
        if name in SYNONYMS:
            found.append(f"{tool}: argument {name!r} should be {SYNONYMS[name]!r}")
        elif name in TYPES and json_type(prop) != TYPES[name]:
            found.append(f"{tool}: argument {name!r} is {json_type(prop)}; by the conventions it is {TYPES[name]}")
    return found


def test_the_page_has_its_tables():
    assert {"path", "cell_id", "index", "position", "start", "limit", "content"} <= set(TYPES)
    assert SYNONYMS["document_path"] == "path" and SYNONYMS["offset"] == "start"


def installed_tools() -> ToolRegistry:
    manager = PackManager()
    manager.load_entry_points()
    registry = ToolRegistry()
    manager.collect_tools(registry)
    return registry


def test_every_installed_tool_follows_the_conventions():
    registry = installed_tools()
    assert len(registry.tools) > 30  # the four packs (and the example) are installed
    problems = [p for tool in registry.tools.values() for p in breaches(tool.name, tool.mcp_tool.input_schema)]
    assert not problems, "\n".join(problems)


def test_old_names_are_accepted_and_not_advertised():
    assert len(RENAMED) == 12  # the page lists every renamed argument
    registry = installed_tools()
    for tool, old, new in RENAMED:
        properties = registry.tools[tool].mcp_tool.input_schema["properties"]
        assert new in properties and old not in properties, (tool, old, new)
        assert old_names(registry.tools[tool].input_model).get(old) == new, (tool, old, new)


class Breaking(BaseModel):
    document_path: str = Field(description="a synonym of path")
    index: str = Field(description="index with the wrong meaning")
    cell_id: str


def test_a_tool_that_breaks_them_is_caught():
    found = breaches("new_tool", input_schema(Breaking))
    assert found == [
        "new_tool: argument 'document_path' should be 'path'",
        "new_tool: argument 'index' is string; by the conventions it is integer",
    ]
