"""The same behaviour in extension mode (collab-mcp in the server) and remote mode
(``collab-mcp connect URL`` over stdio, the packs on a RemoteBackend, a server without collab-mcp)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile

import mcp_types as types
import pytest

from collab_mcp_core.testing import call, call_error, connect, connect_stdio, join_room

MODES = ["extension", "remote"]


@pytest.fixture(scope="module", params=MODES)
def mode_server(request, collab_server_factory):
    """A server for the mode: with collab-mcp (extension), or plain with jupyter-server-ydoc (remote)."""
    server = collab_server_factory(collab_mcp=request.param == "extension")
    server.mode = request.param
    return server


@contextlib.asynccontextmanager
async def agent(server, **session_kwargs):
    """An MCP session of the mode: HTTP to the extension, or stdio to collab-mcp connect in remote mode."""
    if server.mode == "extension":
        async with connect(server, **session_kwargs) as session:
            yield session
        return
    with tempfile.TemporaryFile("w+") as errlog:
        try:
            async with connect_stdio(server, "--mode", "remote", errlog=errlog, **session_kwargs) as session:
                yield session
        finally:
            errlog.seek(0)
            log = errlog.read()
            assert server.token not in log
            assert "Traceback" not in log, log


async def eventually(mcp, tool, check, timeout=10.0, **arguments):
    """Call ``tool`` until ``check(result)`` holds (a collaborator's edit reaching the agent takes a moment)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await call(mcp, tool, **arguments)
        if check(result):
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{tool} never satisfied the check: {result}")
        await asyncio.sleep(0.05)


def write_notebook(server, name, sources):
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for i, s in enumerate(sources)]
    (server.root / name).write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def cells(collaborator):
    return collaborator.notebook.get()["cells"]


def stream_text(collaborator, index):
    return "".join(o.get("text", "") for o in cells(collaborator)[index].get("outputs") or [] if o["output_type"] == "stream")


def sources(collaborator):
    return [str(c["source"]) for c in collaborator.notebook.ycells]


async def test_notebook_workflow(mode_server):
    server = mode_server
    write_notebook(server, "flow.ipynb", ["x = 20"])
    async with agent(server) as mcp, join_room(server, "flow.ipynb") as ada:
        nb = await call(mcp, "get_notebook", path="flow.ipynb")
        assert [c["source"] for c in nb["cells"]] == ["x = 20"]
        inserted = await call(mcp, "insert_notebook_cell", path="flow.ipynb", index=1, content="print(x * 2)")
        await ada.wait_for(lambda: sources(ada) == ["x = 20", "print(x * 2)"], what="the inserted cell")
        cell_id = inserted["cell_id"]
        await call(mcp, "update_notebook_cell", path="flow.ipynb", cell_id=cell_id, content="print('x', x + 1)")
        await ada.wait_for(lambda: sources(ada)[1] == "print('x', x + 1)", what="the update")
        await call(mcp, "execute_notebook_cell", path="flow.ipynb", cell_id="c0")
        result = await call(mcp, "execute_notebook_cell", path="flow.ipynb", cell_id=cell_id)
        assert result["outputs"][0]["text"] == "x 21\n"
        await ada.wait_for(
            lambda: stream_text(ada, 1) == "x 21\n" and cells(ada)[1]["execution_count"], what="the output"
        )
        extra = await call(mcp, "insert_notebook_cell", path="flow.ipynb", index=2, content="gone soon")
        await ada.wait_for(lambda: len(sources(ada)) == 3, what="the third cell")
        await call(mcp, "delete_notebook_cell", path="flow.ipynb", cell_id=extra["cell_id"])
        await ada.wait_for(lambda: sources(ada) == ["x = 20", "print('x', x + 1)"], what="the deletion")
        error = await call_error(mcp, "read_notebook_cell", path="flow.ipynb", cell_id="nope")
        assert "nope" in error


ADA = {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace", "initials": "AL", "color": "#f00"}


def agent_states(collaborator):
    return [s for s in collaborator.others().values() if "agent" in s]


async def test_text_edits(mode_server):
    server = mode_server
    (server.root / "notes.md").write_text("# Notes\n")
    async with agent(server) as mcp, join_room(server, "notes.md", kind="file") as ada:
        await call(mcp, "insert_text", path="notes.md", content="café ☕ ok\n", position=-1)
        await ada.wait_for(lambda: str(ada.text) == "# Notes\ncafé ☕ ok\n", what="the insertion")
        await call(mcp, "delete_text", path="notes.md", position=8, length=7)
        await ada.wait_for(lambda: str(ada.text) == "# Notes\nok\n", what="the deletion (in characters)")
        ada.text.insert(0, "Ada: ")
        await eventually(mcp, "get_document", lambda r: r["content"] == "Ada: # Notes\nok\n", path="notes.md")
        await call(mcp, "update_document", path="notes.md", content="all new\n")
        await ada.wait_for(lambda: str(ada.text) == "all new\n", what="the whole update")
        error = await call_error(mcp, "delete_text", path="notes.md", position=100, length=1)
        assert "100" in error and str(ada.text) == "all new\n"


async def test_subscribers_hear_of_a_persons_edits(mode_server):
    """resources/updated for a text document and a notebook a person edits (remote mode: rooms the agent joined)."""
    server = mode_server
    (server.root / "watched.txt").write_text("start\n")
    write_notebook(server, "watched.ipynb", ["x = 1"])
    updates: list[str] = []

    async def on_message(message) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    async with agent(server, message_handler=on_message) as mcp:
        await call(mcp, "get_document", path="watched.txt")  # the agent is in both rooms
        await call(mcp, "get_notebook", path="watched.ipynb")
        for uri in ("document://watched.txt", "notebook://watched.ipynb"):
            await mcp.subscribe_resource(uri)
        async with join_room(server, "watched.ipynb") as ada:
            ada.notebook.ycells[0]["source"].insert(0, "# Ada\n")
            await ada.wait_for(lambda: "notebook://watched.ipynb" in updates, timeout=15, what="the notebook's notice")
        async with join_room(server, "watched.txt", kind="file") as ada:
            ada.text.insert(len(ada.text), "by Ada\n")
            await ada.wait_for(lambda: "document://watched.txt" in updates, timeout=15, what="the text's notice")
    assert set(updates) == {"document://watched.txt", "notebook://watched.ipynb"}


async def test_presence_and_cursors(mode_server):
    server = mode_server
    (server.root / "cursor.txt").write_text("first line\nsecond line\n")
    async with agent(server) as mcp, join_room(server, "cursor.txt", kind="file") as ada:
        await ada.set_awareness({"user": ADA, "cursors": []})
        await call(mcp, "get_document", path="cursor.txt")  # reading is enough to be present
        state = (await ada.wait_for(lambda: agent_states(ada), what="the agent in the room's awareness"))[0]
        assert state["user"]["name"]
        # A room does not replay earlier awareness states to a client that joins: a remote agent sees
        # ada once her client renews its state, as JupyterLab does every 15 s.
        await ada.set_awareness({"user": ADA, "cursors": []})
        await eventually(mcp, "get_online_users", lambda r: "ada" in {u["user_id"] for u in r["users"]},
                         path="cursor.txt")
        await call(mcp, "set_user_presence", status="busy", message="reading")
        await ada.wait_for(
            lambda: [s["agent"]["status"] for s in agent_states(ada)] == ["busy"], what="the busy status"
        )
        published = await call(mcp, "update_cursor_position", path="cursor.txt",
                               cursor={"line": 1, "column": 3})
        await ada.wait_for(lambda: any(s.get("cursors") for s in agent_states(ada)), what="the agent's cursor")
        found = await call(mcp, "get_user_cursors", path="cursor.txt")
        mine = [c for c in found["cursors"] if c["is_agent"]]
        assert mine and (mine[0]["line"], mine[0]["column"]) == (1, 3)
        assert mine[0]["client_id"] == published["client_id"]


async def test_the_other_offered_tools_run(mode_server):
    """Every other tool of the notebook, document and awareness packs runs in both modes (no internal error)."""
    server = mode_server
    write_notebook(server, "more.ipynb", ["v = 5", "v * 2"])
    (server.root / "more.txt").write_text("text\n")
    async with agent(server) as mcp, join_room(server, "more.ipynb") as ada:
        tools = {t.name for t in (await mcp.list_tools()).tools}
        local_only = {"get_document_history", "restore_document_version", "fork_document", "list_document_forks",
                      "merge_document_fork", "discard_document_fork"}
        assert (tools & local_only == set()) == (server.mode == "remote")
        session = await call(mcp, "create_notebook_session", path="more.ipynb")
        assert session["current_notebook"] == "more.ipynb"
        assert "more.ipynb" in str(await call(mcp, "list_notebooks"))
        assert "more.txt" in str(await call(mcp, "list_files"))
        await call(mcp, "edit_notebook_cell", cell_id="c0", old="5", new="6")
        await ada.wait_for(lambda: sources(ada)[0] == "v = 6", what="the edit")
        await call(mcp, "move_notebook_cell", cell_id="c1", index=0)
        await ada.wait_for(lambda: sources(ada) == ["v * 2", "v = 6"], what="the move")
        ran = await call(mcp, "execute_cells", cell_ids=["c0", "c1"])
        assert "12" in json.dumps(ran)
        assert "v" in json.dumps(await call(mcp, "inspect_variables"))
        await call(mcp, "clear_notebook_outputs")
        await ada.wait_for(lambda: not any(c.get("outputs") for c in cells(ada)), what="cleared outputs")
        assert (await call(mcp, "list_kernels"))["kernels"]
        assert "python3" in json.dumps(await call(mcp, "list_kernelspecs"))
        await call(mcp, "interrupt_kernel")
        await call(mcp, "restart_kernel")
        await call(mcp, "save_notebook")
        on_disk = json.loads((server.root / "more.ipynb").read_text())
        assert ["".join(c["source"]) for c in on_disk["cells"]] == ["v * 2", "v = 6"]
        assert "more.txt" in str(await call(mcp, "list_documents"))
        await call(mcp, "create_document_session", path="more.txt")
        assert (await call(mcp, "get_active_sessions"))["sessions"]
        await call(mcp, "broadcast_user_activity", activity_type="reviewing", description="checking",
                   path="more.ipynb")
        assert (await call(mcp, "get_user_activity", path="more.ipynb"))["entries"]
