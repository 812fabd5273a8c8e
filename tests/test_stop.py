"""A stop signal ends the server: the documents are saved and the process exits, cleanly.

jupyter-server-ydoc starts each room's update store in a task that ends only when the store
is stopped, and never stops it; anyio ties the worker thread a store's first file access
starts to that task, so the thread outlived the event loop and the interpreter waited for
it forever after "Deleting all rooms". Each test stops a real ``collab-mcp serve`` process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess

import pytest
from collab_mcp_notebook.testing import write_notebook

from collab_mcp_core.testing import call, connect, join_room, start_server

EXIT_WITHIN = 30  # seconds: generous; a clean stop takes about one


def disk_sources(path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]


async def exit_code(server) -> int:
    try:
        return await asyncio.to_thread(server.process.wait, EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"the server did not exit within {EXIT_WITHIN}s of the stop signal:\n{server.log_text()[-3000:]}"
        ) from None


# `collab-mcp serve`, and a plain `jupyter server` that loads collab-mcp as an installed extension.
LAUNCHERS = {
    "serve": {},
    "jupyter-server": {"collab_mcp": False, "config_py": 'c.ServerApp.jpserver_extensions = {"collab_mcp_core": True}\n'},
}


@pytest.mark.parametrize("launcher", LAUNCHERS)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_the_server_exits_after_a_stop_signal_with_a_room_the_agent_opened(tmp_path, stop_signal, launcher):
    args = "--YDocExtension.document_save_delay=30"
    server = await asyncio.to_thread(start_server, tmp_path, args, **LAUNCHERS[launcher])
    try:
        write_notebook(server.root, "agent.ipynb", [{"source": "kept = 1"}])
        (server.root / "notes.txt").write_text("first\n")
        async with connect(server) as mcp:
            await call(mcp, "insert_notebook_cell", path="agent.ipynb", content="added = 2", index=-1)
            await call(mcp, "insert_text", path="notes.txt", content="second\n", position=-1)
        server.process.send_signal(stop_signal)
        assert await exit_code(server) == 0
        assert disk_sources(server.root / "agent.ipynb") == ["kept = 1", "added = 2"]
        assert (server.root / "notes.txt").read_text() == "first\nsecond\n"
        assert not server.tracebacks()
    finally:
        await asyncio.to_thread(server.stop)


async def wait_for_log(server, pattern: str) -> None:
    for _ in range(300):
        if re.search(pattern, server.log_text()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{pattern!r} is not in the server log:\n{server.log_text()[-3000:]}")


# Where rooms keep their history: collab-mcp's store under the data directory (the default),
# or jupyter-server-ydoc's own store class, left as it is.
HISTORY = {"data-dir": (), "ydoc-store": ("--CollabMCP.history_in_data_dir=False",)}


@pytest.mark.parametrize("history", HISTORY)
async def test_the_server_exits_after_a_stop_signal_with_closed_rooms_and_a_collaborator(tmp_path, history):
    # Before the stop: a room collab-mcp closed as idle, one jupyter-server-ydoc deleted after its
    # last collaborator left (neither stops the room's store by itself), and one a collaborator has open.
    args = ("--CollabMCP.room_idle_timeout=1", "--YDocExtension.document_cleanup_delay=1", *HISTORY[history])
    server = await asyncio.to_thread(start_server, tmp_path, *args)
    try:
        for name in ("idle", "left", "shared"):
            write_notebook(server.root, f"{name}.ipynb", [{"source": f"{name} = 1"}])
        async with connect(server) as mcp:
            await call(mcp, "insert_notebook_cell", path="idle.ipynb", content="idle = 2", index=-1)
            await wait_for_log(server, "collab-mcp closed idle room")
            async with join_room(server, "left.ipynb") as person:
                await call(mcp, "insert_notebook_cell", path="left.ipynb", content="left = 2", index=-1)
                await person.wait_for(lambda: len(person.notebook.ycells) == 2, what="the agent's cell")
                await wait_for_disk(server.root / "left.ipynb", ["left = 1", "left = 2"])  # saved before it goes
            await wait_for_log(server, r"Room json:notebook:\S+ deleted")  # once its collaborator left
            async with join_room(server, "shared.ipynb") as person:
                await call(mcp, "insert_notebook_cell", path="shared.ipynb", content="shared = 2", index=-1)
                await person.wait_for(lambda: len(person.notebook.ycells) == 2, what="the agent's cell")
                server.process.send_signal(signal.SIGTERM)
                assert await exit_code(server) == 0
        assert disk_sources(server.root / "idle.ipynb") == ["idle = 1", "idle = 2"]
        assert disk_sources(server.root / "left.ipynb") == ["left = 1", "left = 2"]
        assert disk_sources(server.root / "shared.ipynb") == ["shared = 1", "shared = 2"]
        assert not server.tracebacks()  # the agent leaving rooms already stopped is nobody to tell, no error
    finally:
        await asyncio.to_thread(server.stop)


async def wait_for_disk(path, sources: list[str]) -> None:
    for _ in range(300):
        with contextlib.suppress(OSError, ValueError):  # being written
            if disk_sources(path) == sources:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path.name} on disk is not {sources}")


def store_connections(pid: int) -> int:
    """How many files the server process has open on the update store's database."""
    found = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile
            found += os.readlink(f"/proc/{pid}/fd/{fd}").endswith("jupyter_ystore.db")
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through Linux's /proc")
async def test_a_room_closed_as_idle_lets_go_of_its_update_store(tmp_path):
    # jupyter-server-ydoc's delete_room leaves the room's store (a task and a database connection) running.
    server = await asyncio.to_thread(start_server, tmp_path, "--CollabMCP.room_idle_timeout=1")
    try:
        async with connect(server) as mcp:
            for i in range(3):
                write_notebook(server.root, f"n{i}.ipynb", [{"source": "a = 1"}])
                await call(mcp, "insert_notebook_cell", path=f"n{i}.ipynb", content="b = 2", index=-1)
            assert store_connections(server.process.pid) >= 3  # one per room
            for _ in range(300):
                if server.log_text().count("collab-mcp closed idle room") == 3 and not store_connections(server.process.pid):
                    break
                await asyncio.sleep(0.1)
            assert server.log_text().count("collab-mcp closed idle room") == 3
            assert store_connections(server.process.pid) == 0
    finally:
        await asyncio.to_thread(server.stop)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through Linux's /proc")
@pytest.mark.parametrize("history", HISTORY)
async def test_a_room_deleted_after_its_last_collaborator_left_lets_go_of_its_update_store(tmp_path, history):
    # jupyter-server-ydoc deletes the room itself (document_cleanup_delay after the last client left)
    # and leaves its store (a task and a database connection) running.
    server = await asyncio.to_thread(start_server, tmp_path, "--YDocExtension.document_cleanup_delay=1", *HISTORY[history])
    try:
        for i in range(2):
            write_notebook(server.root, f"n{i}.ipynb", [{"source": "a = 1"}])
        async with connect(server) as mcp:
            for i in range(2):
                async with join_room(server, f"n{i}.ipynb") as person:
                    await call(mcp, "insert_notebook_cell", path=f"n{i}.ipynb", content="b = 2", index=-1)
                    await person.wait_for(lambda: len(person.notebook.ycells) == 2, what="the agent's cell")
                    assert store_connections(server.process.pid) >= 1
            deleted = r"Room json:notebook:\S+ deleted"
            for _ in range(300):
                if len(re.findall(deleted, server.log_text())) == 2 and not store_connections(server.process.pid):
                    break
                await asyncio.sleep(0.1)
            assert len(re.findall(deleted, server.log_text())) == 2, server.log_text()[-3000:]
            assert store_connections(server.process.pid) == 0
            # Opened again, the room reads its history back: each cell once.
            async with join_room(server, "n0.ipynb") as person:
                await person.wait_for(lambda: len(person.notebook.ycells) >= 2, what="the notebook")
                assert [c["source"] for c in person.notebook.get()["cells"]] == ["a = 1", "b = 2"]
        assert not server.tracebacks()
    finally:
        await asyncio.to_thread(server.stop)


@pytest.mark.parametrize("history", HISTORY)
async def test_an_edit_just_before_jupyter_server_ydoc_deletes_the_room_reaches_the_disk(tmp_path, history):
    # The room's cleanup (document_cleanup_delay after the last person left) stops the room, which
    # cancels its pending save (document_save_delay after the last change): the edit must be saved first.
    server = await asyncio.to_thread(
        start_server, tmp_path, "--YDocExtension.document_cleanup_delay=1", "--YDocExtension.document_save_delay=60",
        *HISTORY[history],
    )
    try:
        write_notebook(server.root, "late.ipynb", [{"source": "a = 1"}])
        async with connect(server) as mcp:
            async with join_room(server, "late.ipynb") as person:
                await person.wait_for(lambda: len(person.notebook.ycells) == 1, what="the notebook")
            # The person left: the cleanup runs in a second, the room's own save would in a minute.
            await call(mcp, "insert_notebook_cell", path="late.ipynb", content="b = 2", index=-1)
            deleted = r"Room json:notebook:\S+ deleted"
            for _ in range(300):
                if re.search(deleted, server.log_text()):
                    break
                await asyncio.sleep(0.1)
            assert re.search(deleted, server.log_text()), server.log_text()[-3000:]
        on_disk = json.loads((server.root / "late.ipynb").read_text())
        assert ["".join(c["source"]) for c in on_disk["cells"]] == ["a = 1", "b = 2"]  # nbformat: lists of lines
        assert not server.tracebacks()
    finally:
        await asyncio.to_thread(server.stop)
