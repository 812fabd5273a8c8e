"""expected_version: notebook edits refused when anyone changed the notebook since the caller read it."""

from __future__ import annotations

import asyncio

from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import sources, write_notebook


async def test_a_stale_version_is_refused_and_changes_nothing(collab_server):
    path = write_notebook(collab_server.root, "versions.ipynb", [{"source": "a = 1"}, {"source": "b = 2"}])
    async with join_room(collab_server, path) as ada, connect(collab_server) as agent:
        read = await call(agent, "get_notebook", path=path)
        version = read["document_version"]
        first = read["cells"][0]["cell_id"]
        typed = ada.notebook.ycells[1]["source"]  # a local reference: += on the item would empty it
        typed += "  # Ada"  # someone types after the agent read
        for _ in range(200):  # until the server has Ada's change
            if (await call(agent, "get_notebook", path=path))["cells"][1]["source"].endswith("# Ada"):
                break
            await asyncio.sleep(0.05)
        for tool, arguments in [
            ("update_notebook_cell", {"cell_id": first, "content": "a = 10"}),
            ("insert_notebook_cell", {"content": "c = 3"}),
            ("delete_notebook_cell", {"cell_id": first}),
            ("move_notebook_cell", {"cell_id": first, "index": 1}),
            ("edit_notebook_cell", {"cell_id": first, "old": "1", "new": "100"}),
            ("clear_notebook_outputs", {}),
        ]:
            error = await call_error(agent, tool, path=path, expected_version=version, **arguments)
            assert f"changed since version {version!r}" in error, (tool, error)
        assert sources(ada) == ["a = 1", "b = 2  # Ada"]

        current = (await call(agent, "get_notebook", path=path))["document_version"]
        await call(agent, "update_notebook_cell", path=path, cell_id=first, content="a = 10", expected_version=current)
        await ada.wait_for(lambda: sources(ada)[0] == "a = 10", what="the edit made at the current version")
