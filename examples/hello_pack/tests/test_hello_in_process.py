"""The example pack's tools called in-process (collab_mcp_core.in_process): no Jupyter server, the real
host and MCP client, real pycrdt documents, a collaborator's copy synced by updates."""

from __future__ import annotations

import json

import collab_mcp_hello
import pycrdt
from collab_mcp_core import NOTEBOOK, TEXT_FILE
from collab_mcp_core.in_process import in_process
from collab_mcp_core.testing import call, call_error


def notebook(*cell_ids: str) -> str:
    cells = [{"cell_type": "code", "id": c, "source": f"x = {i}", "metadata": {}, "outputs": [], "execution_count": None}
             for i, c in enumerate(cell_ids)]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def tags(doc, cell_id: str) -> list[str]:
    from jupyter_ydoc import YNotebook

    cell = next(c for c in YNotebook(doc).ycells if c.get("id") == cell_id)
    return list(cell["metadata"].to_py().get("tags") or [])


async def test_tags_reach_a_collaborators_copy():
    async with in_process(collab_mcp_hello, files={"n.ipynb": notebook("a", "b")}) as app:
        person = app.backend.open_room("n.ipynb", NOTEBOOK).collaborator()
        tagged = await call(app.client, "tag_cells", path="n.ipynb", cell_ids=["a"], tag="todo")
        assert tagged["cell_ids"] == ["a"]
        assert tags(person, "a") == ["todo"] and tags(person, "b") == []


async def test_config_authorize_and_argument_errors_go_through_the_host():
    files = {"frozen/plan.ipynb": notebook("p"), "notes.txt": "two words"}
    config = {"HelloPack": {"tag": "checked", "locked_folder": "frozen/"}}
    async with in_process(collab_mcp_hello, files=files, config=config) as app:
        error = await call_error(app.client, "tag_cells", path="frozen/plan.ipynb", cell_ids=["p"])
        assert error.endswith("notebooks under frozen/ are read-only")
        assert app.backend.contents.files["frozen/plan.ipynb"] == files["frozen/plan.ipynb"]  # nothing changed
        assert "cell_ids" in await call_error(app.client, "tag_cells", path="notes.txt")  # validated by the host
        assert (await call(app.client, "word_count", path="notes.txt"))["words"] == 2


async def test_a_collaborators_edit_reaches_the_tool():
    async with in_process(collab_mcp_hello, files={"t.txt": "one"}) as app:
        person = app.backend.open_room("t.txt", TEXT_FILE).collaborator()
        text = person.get("source", type=pycrdt.Text)
        text += " two three"
        assert (await call(app.client, "word_count", path="t.txt"))["words"] == 3
