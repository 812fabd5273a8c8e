"""The example pack against a real server, through a real MCP client, with only the public API and fixtures."""

from __future__ import annotations

import json

import pytest

from collab_mcp_core.testing import call, call_error, connect, join_room


def write_notebook(root, path: str, cell_ids: list[str]) -> str:
    cells = [
        {"cell_type": "code", "id": cell_id, "source": f"x = {i}", "metadata": {}, "outputs": [], "execution_count": None}
        for i, cell_id in enumerate(cell_ids)
    ]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook))
    return path


def tags_seen(person, cell_id: str) -> list[str]:
    for cell in person.notebook.ycells:
        if cell.get("id") == cell_id:
            return list(cell["metadata"].to_py().get("tags") or [])
    return []


@pytest.fixture(scope="module")
def server(collab_server_factory):
    return collab_server_factory("--HelloPack.tag=checked", "--HelloPack.locked_folder=frozen/")


async def test_tags_reach_a_collaborator_live(server):
    path = write_notebook(server.root, "tagging.ipynb", ["a", "b", "c"])
    async with join_room(server, path) as person, connect(server) as session:
        tagged = await call(session, "tag_cells", path=path, cell_ids=["a", "c"], tag="todo")
        assert (tagged["tag"], tagged["cell_ids"]) == ("todo", ["a", "c"])
        await person.wait_for(lambda: tags_seen(person, "c") == ["todo"], what="the tag on cell c")
        assert tags_seen(person, "a") == ["todo"] and tags_seen(person, "b") == []
        await call(session, "tag_cells", path=path, cell_ids=["a"], tag="todo")  # tagged already: kept once
        assert tags_seen(person, "a") == ["todo"]


async def test_the_configured_tag_is_read_from_the_tool(server):
    path = write_notebook(server.root, "default_tag.ipynb", ["only"])
    async with join_room(server, path) as person, connect(server) as session:
        assert (await call(session, "tag_cells", path=path, cell_ids=["only"]))["tag"] == "checked"
        await person.wait_for(lambda: tags_seen(person, "only") == ["checked"], what="the configured tag")


async def test_the_locked_folder_is_read_from_authorize_and_denied_with_its_reason(server):
    path = write_notebook(server.root, "frozen/plan.ipynb", ["p"])
    (server.root / "frozen" / "notes.txt").write_text("still readable")
    async with connect(server) as session:
        error = await call_error(session, "tag_cells", path=path, cell_ids=["p"])
        assert error == "Permission denied: tool 'tag_cells' on 'frozen/plan.ipynb': notebooks under frozen/ are read-only"
        assert (await call(session, "word_count", path="frozen/notes.txt"))["words"] == 2
    assert "tags" not in json.loads((server.root / path).read_text())["cells"][0]["metadata"]


async def test_a_missing_cell_changes_nothing(server):
    path = write_notebook(server.root, "missing.ipynb", ["m"])
    async with join_room(server, path) as person, connect(server) as session:
        error = await call_error(session, "tag_cells", path=path, cell_ids=["m", "nope"], tag="x")
        assert "No cell 'nope'" in error and "m" in error
        assert tags_seen(person, "m") == []


async def test_the_event_listener_keeps_what_each_session_tagged(server):
    path = write_notebook(server.root, "listened.ipynb", ["l1", "l2"])
    async with connect(server) as tagger, connect(server) as other:
        assert (await call(tagger, "last_tagged"))["path"] is None
        await call(tagger, "tag_cells", path=path, cell_ids=["l2"], tag="seen")
        assert await call(tagger, "last_tagged") == {"path": path, "tag": "seen", "cell_ids": ["l2"]}
        assert (await call(other, "last_tagged"))["path"] is None  # per session, not per user
    assert server.events("cells_tagged")[-1]["cell_ids"] == ["l2"]
