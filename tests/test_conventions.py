"""Every installed pack's tools follow docs/conventions.md: one name, one meaning."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field

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
NOT_YET = {(names_in(row[0])[0], names_in(row[1])[0]) for row in section("Not renamed yet")}


def json_type(prop: dict) -> str:
    if "type" in prop:
        return prop["type"]
    return "object" if "$ref" in prop else "?"


def breaches(tool: str, schema: dict) -> list[str]:
    """What in one tool's input schema breaks the conventions (known exceptions aside)."""
    found = []
    for name, prop in schema.get("properties", {}).items():
        if (tool, name) in NOT_YET:
            continue
        if name in SYNONYMS:
            found.append(f"{tool}: argument {name!r} should be {SYNONYMS[name]!r}")
        elif name in TYPES and json_type(prop) != TYPES[name]:
            found.append(f"{tool}: argument {name!r} is {json_type(prop)}; by the conventions it is {TYPES[name]}")
    return found


def test_the_page_has_its_tables():
    assert {"path", "cell_id", "index", "position", "start", "limit", "content"} <= set(TYPES)
    assert SYNONYMS["document_path"] == "path" and SYNONYMS["offset"] == "start"


def test_every_installed_tool_follows_the_conventions():
    manager = PackManager()
    manager.load_entry_points()
    registry = ToolRegistry()
    manager.collect_tools(registry)
    assert len(registry.tools) > 30  # the four packs (and the example) are installed
    problems = [p for tool in registry.tools.values() for p in breaches(tool.name, tool.mcp_tool.input_schema)]
    assert not problems, "\n".join(problems)


def test_known_exceptions_still_exist():
    # An exception left in the page after its rename would hide a new breach of the same name.
    manager = PackManager()
    manager.load_entry_points()
    registry = ToolRegistry()
    manager.collect_tools(registry)
    stale = [(t, a) for t, a in NOT_YET if a not in registry.tools[t].mcp_tool.input_schema["properties"]]
    assert not stale, f"renamed already: drop them from docs/conventions.md's 'Not renamed yet': {stale}"


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
