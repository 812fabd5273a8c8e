"""Prompts (register_prompts) and completions, through the real SDK client over both protocol revisions."""

from __future__ import annotations

import json

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from collab_mcp_core.testing import connect

NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
REVISIONS = [pytest.param(False, id="2025-11-25"), pytest.param(True, id="2026-07-28")]


@pytest.fixture(scope="module")
def server(collab_server):
    root = collab_server.root
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports" / "q1.ipynb").write_text(NOTEBOOK)
    (root / "reports" / "q2.ipynb").write_text(NOTEBOOK)
    (root / "raw.ipynb").write_text(NOTEBOOK)
    (root / "reports" / "notes.md").write_text("# notes\n")
    (root / ".secret.ipynb").write_text(NOTEBOOK)
    return collab_server


@pytest.mark.parametrize("modern", REVISIONS)
async def test_each_pack_offers_prompts(server, modern):
    async with connect(server, modern=modern) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert {"review_notebook", "fix_failing_cell", "summarize_changes", "catch_up"} <= set(prompts)
    assert all(p.description for p in prompts.values())
    arguments = {a.name: a.required for a in prompts["fix_failing_cell"].arguments}
    assert arguments == {"path": True, "cell_id": False}


@pytest.mark.parametrize("modern", REVISIONS)
async def test_a_prompt_renders_a_message_that_names_the_document_and_the_tools(server, modern):
    async with connect(server, modern=modern) as client:
        got = await client.get_prompt("fix_failing_cell", {"path": "./reports/q1.ipynb", "cell_id": "abc"})
        changes = await client.get_prompt("summarize_changes", {"path": "reports/notes.md", "version": "v7"})
    text = got.messages[0].content.text
    assert got.messages[0].role == "user" and "reports/q1.ipynb" in text and "cell abc" in text
    assert "execute_notebook_cell" in text
    assert "v7" in changes.messages[0].content.text and "get_document_history" in changes.messages[0].content.text


@pytest.mark.parametrize("modern", REVISIONS)
async def test_bad_prompt_requests_are_errors_the_model_can_act_on(server, modern):
    async with connect(server, modern=modern) as client:
        with pytest.raises(MCPError) as unknown:
            await client.get_prompt("review_notebok", {"path": "raw.ipynb"})
        with pytest.raises(MCPError) as missing:
            await client.get_prompt("review_notebook", {})
        with pytest.raises(MCPError) as outside:
            await client.get_prompt("review_notebook", {"path": "../x.ipynb"})
    assert unknown.value.error.code == types.INVALID_PARAMS and "Did you mean 'review_notebook'" in unknown.value.error.message
    assert "path" in missing.value.error.message and "Valid arguments" in missing.value.error.message
    assert "leaves the server root" in outside.value.error.message


@pytest.mark.parametrize("modern", REVISIONS)
async def test_resource_template_paths_complete(server, modern):
    template = types.ResourceTemplateReference(uri="notebook://{path}")
    async with connect(server, modern=modern) as client:
        reports = await client.complete(template, {"name": "path", "value": "rep"})
        everything = await client.complete(template, {"name": "path", "value": ""})
        by_name = await client.complete(template, {"name": "path", "value": "Q2"})
    assert reports.completion.values == ["reports/q1.ipynb", "reports/q2.ipynb"]
    assert reports.completion.total == 2 and reports.completion.has_more is False
    assert "raw.ipynb" in everything.completion.values
    assert not [v for v in everything.completion.values if not v.endswith(".ipynb") or v.startswith(".")]
    assert by_name.completion.values == ["reports/q2.ipynb"]  # contains, case-insensitive


@pytest.mark.parametrize("modern", REVISIONS)
async def test_prompt_arguments_complete_from_the_packs_resources(server, modern):
    async with connect(server, modern=modern) as client:
        notebooks = await client.complete(
            types.PromptReference(name="review_notebook"), {"name": "path", "value": "reports/"}
        )
        documents = await client.complete(
            types.PromptReference(name="summarize_changes"), {"name": "path", "value": "reports/"}
        )
        cell = await client.complete(types.PromptReference(name="fix_failing_cell"), {"name": "cell_id", "value": ""})
        with pytest.raises(MCPError) as wrong:
            await client.complete(types.PromptReference(name="review_notebook"), {"name": "nope", "value": ""})
    assert notebooks.completion.values == ["reports/q1.ipynb", "reports/q2.ipynb"]
    assert documents.completion.values == ["reports/notes.md"]
    assert cell.completion.values == []  # nothing the server can list for it
    assert "no argument 'nope'" in wrong.value.error.message and "path" in wrong.value.error.message


async def test_many_paths_are_capped_at_100_with_the_total(server):
    folder = server.root / "many"
    folder.mkdir(exist_ok=True)
    for i in range(120):
        (folder / f"n{i:03}.ipynb").write_text(NOTEBOOK)
    async with connect(server) as client:
        got = await client.complete(types.ResourceTemplateReference(uri="notebook://{path}"), {"name": "path", "value": "many/"})
    assert len(got.completion.values) == 100 and got.completion.total == 120 and got.completion.has_more is True
    assert got.completion.values[0] == "many/n000.ipynb"
