"""What people changed since the agent's version: get_notebook_changes and wait_for_notebook_changes."""

from __future__ import annotations

import asyncio

from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, write_notebook

ADA = {"user": {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace"}}


async def test_changes_name_the_collaborator_and_leave_out_the_agents_own(collab_server):
    path = write_notebook(
        collab_server.root, "changes.ipynb", [{"source": "a = 1"}, {"source": "b = 2\nc = 3"}, {"source": "d = 4"}]
    )
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        await ada.set_awareness(ADA)
        read = await call(mcp, "get_notebook", path=path)
        version, ids = read["document_version"], [c["cell_id"] for c in read["cells"]]
        nothing = await call(mcp, "get_notebook_changes", path=path, since_version=version)
        assert nothing["cells"] == [] and nothing["document_version"] == version

        # The agent's own edits after the version...
        await call(mcp, "update_notebook_cell", path=path, cell_id=ids[0], content="a = 100")
        mine = await call(mcp, "insert_notebook_cell", path=path, content="mine = True")
        # ...and Ada's: she edits cell 2 and inserts a cell after it.
        nb = ada.notebook
        nb.ycells[1]["source"].insert(len("b = 2\nc = "), "30 + ")
        nb.ycells.insert(2, nb.create_ycell({"cell_type": "markdown", "source": "## Ada's notes", "metadata": {},
                                             "id": "ada-cell"}))
        seen = await call(mcp, "wait_for_notebook_changes", path=path, since_version=version, timeout=30)
        assert seen["timed_out"] is False
        for _ in range(100):  # her two edits may arrive as two updates: read until both are in
            changes = await call(mcp, "get_notebook_changes", path=path, since_version=version)
            if len(changes["cells"]) == 2:
                break
            await asyncio.sleep(0.05)
        by_id = {c["cell_id"]: c for c in changes["cells"]}
        assert set(by_id) == {ids[1], "ada-cell"}, changes  # not cell 0 nor the agent's inserted cell
        assert mine["cell_id"] not in by_id
        edited = by_id[ids[1]]
        assert edited["changes"] == ["source"] and edited["authors"] == ["Ada Lovelace"]
        assert edited["diff"] == "@@ -1,2 +1,2 @@\n b = 2\n-c = 3\n+c = 30 + 3"
        added = by_id["ada-cell"]
        assert added["changes"] == ["added"] and added["index"] == 2 and added["source"] == "## Ada's notes"
        assert added["authors"] == ["Ada Lovelace"] and added["cell_type"] == "markdown"
        assert changes["document_version"] != version
        # From the new version on, nothing has changed.
        again = await call(mcp, "get_notebook_changes", path=path, since_version=changes["document_version"])
        assert again["cells"] == []

        # Removals and moves are named too.
        later = changes["document_version"]
        with nb.ydoc.transaction():
            del nb.ycells[0]
        await ada.wait_for(lambda: len(cells_of(ada)) == 4, what="the deletion")
        removed = None
        for _ in range(100):
            removed = await call(mcp, "get_notebook_changes", path=path, since_version=later)
            if removed["cells"]:
                break
            await asyncio.sleep(0.05)
        assert [(c["cell_id"], c["changes"], c["from_index"]) for c in removed["cells"]] == [(ids[0], ["removed"], 0)]
        assert removed["cells"][0]["authors"] == ["Ada Lovelace"]


async def test_wait_returns_at_a_keystroke_and_times_out_cleanly(collab_server):
    path = write_notebook(collab_server.root, "wait.ipynb", [{"source": "x = 1"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        await ada.set_awareness(ADA)
        read = await call(mcp, "read_notebook_cell", path=path, index=0)
        version, cell_id = read["document_version"], read["cell_id"]

        # Nobody else types: the wait ends at its timeout, even though the agent itself edits meanwhile.
        async def own_edit() -> None:
            await asyncio.sleep(0.2)
            await call(mcp, "update_notebook_cell", path=path, cell_id=cell_id, content="x = 2")

        editing = asyncio.create_task(own_edit())
        quiet = await call(mcp, "wait_for_notebook_changes", path=path, since_version=version, timeout=1.5)
        await editing
        assert quiet["timed_out"] is True and quiet["cells"] == []

        # One keystroke of Ada's ends the wait (long before its 30 s timeout) and is reported.
        waiting = asyncio.create_task(
            call(mcp, "wait_for_notebook_changes", path=path, since_version=quiet["document_version"], timeout=30)
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()
        ada.notebook.ycells[0]["source"].insert(0, "#")
        seen = await waiting
        assert seen["timed_out"] is False
        assert [(c["cell_id"], c["changes"], c["authors"]) for c in seen["cells"]] == [
            (cell_id, ["source"], ["Ada Lovelace"])
        ]


async def test_another_agents_edits_count_as_changes(collab_server):
    path = write_notebook(collab_server.root, "two_agents.ipynb", [{"source": "x = 1"}])
    async with connect(collab_server) as first, connect(collab_server) as second:
        read = await call(first, "get_notebook", path=path)
        cell_id = read["cells"][0]["cell_id"]
        await call(second, "update_notebook_cell", path=path, cell_id=cell_id, content="x = 'second'")
        changes = await call(first, "get_notebook_changes", path=path, since_version=read["document_version"])
        [change] = changes["cells"]
        assert change["changes"] == ["source"] and change["authors"][0].endswith("(agent)")


async def test_changes_bad_input(collab_server):
    one = write_notebook(collab_server.root, "one.ipynb", [{"source": "1"}])
    two = write_notebook(collab_server.root, "two.ipynb", [{"source": "2"}])
    async with connect(collab_server) as mcp, join_room(collab_server, one) as ada:
        before = cells_of(ada)
        other_version = (await call(mcp, "get_notebook", path=two))["document_version"]
        await call(mcp, "get_notebook", path=one)
        err = await call_error(mcp, "get_notebook_changes", path=one, since_version=other_version)
        assert "is a version of 'two.ipynb', not of 'one.ipynb'" in err
        err = await call_error(mcp, "wait_for_notebook_changes", path=one, since_version="feedbeef", timeout=1)
        assert "is not a version of 'one.ipynb'" in err
        err = await call_error(mcp, "wait_for_notebook_changes", path=one, since_version="x", timeout=0)
        assert "timeout" in err
        err = await call_error(mcp, "get_notebook_changes", path="nope.ipynb", since_version="x")
        assert "No notebook" in err
        await asyncio.sleep(0.1)
        assert cells_of(ada) == before
