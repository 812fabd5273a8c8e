"""One meaning of "version" for notebooks and text documents: a save never changes it, any content
edit by a collaborator does, and an edit at a stale version is refused with the current one.

The room writes ``dirty`` into the document's ``state`` map on every save, so the
document's CRDT state (its state vector) changes although nobody edited it: each
test checks that the save really did change the collaborator's state vector, so it
would fail for a version that followed the state vector.
"""

from __future__ import annotations

import asyncio
import json

from collab_mcp_core import state_vector
from collab_mcp_core.testing import call, call_error, connect, join_room


async def settle(predicate, what, timeout=15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def until(agent, tool, check, **arguments):
    """Call ``tool`` until ``check(result)`` (a collaborator's edit takes a moment to reach the server)."""
    for _ in range(300):
        result = await call(agent, tool, **arguments)
        if check(result):
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"{tool} never satisfied the check: {result}")


async def test_a_text_version_survives_a_save_and_follows_a_collaborators_edit(collab_server):
    path = collab_server.root / "v.md"
    path.write_text("one\n")
    async with join_room(collab_server, "v.md", kind="file") as ada, connect(collab_server) as agent:
        await ada.wait_for(lambda: str(ada.text) == "one\n", what="the file")
        await call(agent, "insert_text", path="v.md", content="two\n", position=-1)
        version = (await call(agent, "get_document", path="v.md"))["version"]
        before = state_vector(ada.doc)
        await settle(lambda: path.read_text() == "one\ntwo\n", "the room's autosave")
        await ada.wait_for(lambda: state_vector(ada.doc) != before, what="the save's write of the dirty flag")
        assert (await call(agent, "get_document", path="v.md"))["version"] == version  # saved, not edited

        ada.text.insert(0, "zero\n")  # a person types
        now = await until(agent, "get_document", lambda r: r["content"].startswith("zero"), path="v.md")
        assert now["version"] != version
        error = await call_error(agent, "insert_text", path="v.md", content="three\n", position=-1, expected_version=version)
        assert version in error and now["version"] in error, error
        assert str(ada.text) == "zero\none\ntwo\n"  # refused: nothing changed
        assert (await call(agent, "get_document", path="v.md"))["version"] == now["version"]
        await call(agent, "insert_text", path="v.md", content="three\n", position=-1, expected_version=now["version"])
        await ada.wait_for(lambda: str(ada.text) == "zero\none\ntwo\nthree\n", what="the edit at the current version")


async def test_a_notebook_version_survives_a_save_and_follows_a_collaborators_edit(collab_server):
    cells = [{"cell_type": "code", "id": "c0", "metadata": {}, "outputs": [], "execution_count": None, "source": "a = 1"}]
    (collab_server.root / "v.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    async with join_room(collab_server, "v.ipynb") as ada, connect(collab_server) as agent:
        await call(agent, "update_notebook_cell", path="v.ipynb", cell_id="c0", content="a = 2")
        version = (await call(agent, "get_notebook", path="v.ipynb"))["document_version"]
        before = state_vector(ada.doc)
        saved = await call(agent, "save_notebook", path="v.ipynb")
        assert saved["document_version"] == version
        await ada.wait_for(lambda: state_vector(ada.doc) != before, what="the save's write of the dirty flag")
        assert (await call(agent, "get_notebook", path="v.ipynb"))["document_version"] == version  # saved, not edited

        source = ada.notebook.ycells[0]["source"]  # a local reference: += on the item would empty it
        source += "  # Ada"
        now = await until(agent, "get_notebook", lambda r: r["cells"][0]["source"].endswith("# Ada"), path="v.ipynb")
        assert now["document_version"] != version
        error = await call_error(agent, "insert_notebook_cell", path="v.ipynb", content="b = 1", expected_version=version)
        assert version in error and now["document_version"] in error, error
        assert [str(c["source"]) for c in ada.notebook.ycells] == ["a = 2  # Ada"]  # refused: nothing changed
        await call(agent, "insert_notebook_cell", path="v.ipynb", content="b = 1", expected_version=now["document_version"])
        await ada.wait_for(lambda: len(ada.notebook.ycells) == 2, what="the edit at the current version")
