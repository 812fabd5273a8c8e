"""Nothing an agent was told is done gets lost: a crash (SIGKILL), a restart, a stop by signal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest
from collab_mcp_notebook.testing import write_notebook

from collab_mcp_core.testing import call, connect, join_room, start_server

NO_RATE_LIMIT = "--Limits.rate_per_second=0"


def kill(server) -> None:
    """SIGKILL: no clean-up of any kind runs (an OOM kill, a node failure)."""
    server.process.kill()
    server.process.wait(10)


async def wait_until(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.1)
    return value


def disk_sources(path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]


async def test_acknowledged_inserts_survive_sigkill(tmp_path) -> None:
    # A long save delay: nothing reaches the file before the kill, only the update store has the edits.
    args = (NO_RATE_LIMIT, "--YDocExtension.document_save_delay=30")
    server = await asyncio.to_thread(start_server, tmp_path, *args)
    try:
        write_notebook(server.root, "crash.ipynb", [{"source": "first = 1"}])
        async with connect(server) as mcp:
            for i in range(5):
                await call(mcp, "insert_notebook_cell", path="crash.ipynb", content=f"cell_{i} = {i}", index=-1)
                if i == 1:
                    await call(mcp, "save_notebook", path="crash.ipynb")  # collab-mcp's last save: 3 cells
        kill(server)  # right after the last acknowledged call
        assert len(disk_sources(server.root / "crash.ipynb")) == 3  # the file never got the last three

        server = await asyncio.to_thread(start_server, tmp_path, *args)  # same root, data directory
        expected = ["first = 1"] + [f"cell_{i} = {i}" for i in range(5)]
        async with join_room(server, "crash.ipynb") as human:
            await human.wait_for(lambda: len(human.notebook.ycells) >= 6, what="the rebuilt notebook")
            cells = [c.to_py() for c in human.notebook.ycells]
            assert [c["source"] for c in cells] == expected
            assert len({c["id"] for c in cells}) == 6  # each cell once
        # The rebuilt room saves what the file lacked (the save delay does not hold back that save).
        await wait_until(lambda: disk_sources(server.root / "crash.ipynb") == expected, "the save")
        ids = [c["id"] for c in json.loads((server.root / "crash.ipynb").read_text())["cells"]]
        assert len(set(ids)) == 6
        assert "out-of-sync" not in server.log_text()
        async with connect(server) as mcp:
            history = await call(mcp, "get_document_history", path="crash.ipynb", limit=50)
        by_agent = [v for v in history["versions"] if v["agent_edit"]]
        assert [v["cells_added"] for v in by_agent] == [1] * 5  # each insert recorded, with its agent
        assert len({tuple(v["authors"]) for v in by_agent}) == 1 and by_agent[0]["authors"] != []
    finally:
        await asyncio.to_thread(server.stop)
    assert server.tracebacks() == []


async def test_a_file_changed_on_disk_wins_and_the_lost_edits_stay_restorable(tmp_path) -> None:
    args = ("--YDocExtension.document_save_delay=30",)
    server = await asyncio.to_thread(start_server, tmp_path, *args)
    try:
        (server.root / "notes.md").write_text("saved line ✓\n", encoding="utf-8")
        async with connect(server) as mcp:
            await call(mcp, "insert_text", path="notes.md", content="unsaved é 1\n", position=-1)
            await call(mcp, "insert_text", path="notes.md", content="unsaved 🎉 2\n", position=-1)
        kill(server)
        (server.root / "notes.md").write_text("rewritten on disk\n", encoding="utf-8")  # while the server was down

        server = await asyncio.to_thread(start_server, tmp_path, *args)
        async with connect(server) as mcp:
            assert (await call(mcp, "get_document", path="notes.md"))["content"] == "rewritten on disk\n"
            history = await call(mcp, "get_document_history", path="notes.md", limit=50)
            lost = [v for v in history["versions"] if v.get("note")]
            assert len(lost) == 1, history
            assert "never reached the disk" in lost[0]["note"]
            assert "changed on disk since collab-mcp last saved it" in server.log_text()
            await call(mcp, "restore_document_version", path="notes.md", version_id=lost[0]["version_id"])
            restored = (await call(mcp, "get_document", path="notes.md"))["content"]
            assert restored == "saved line ✓\nunsaved é 1\nunsaved 🎉 2\n"
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_text_file_as_collab_mcp_loaded_it_is_rebuilt_from_the_store(tmp_path) -> None:
    # The text twin of the notebook case, with no save at all: the file is as the room loaded it.
    server = await asyncio.to_thread(start_server, tmp_path, "--YDocExtension.document_save_delay=30")
    try:
        (server.root / "log.txt").write_text("one\n", encoding="utf-8")
        async with connect(server) as mcp:
            await call(mcp, "insert_text", path="log.txt", content="two\n", position=-1)
        kill(server)
        assert (server.root / "log.txt").read_text(encoding="utf-8") == "one\n"
        server = await asyncio.to_thread(start_server, tmp_path)
        async with join_room(server, "log.txt", kind="file") as human:
            await human.wait_for(lambda: str(human.text) == "one\ntwo\n", what="the rebuilt text")
        await wait_until(lambda: (server.root / "log.txt").read_text(encoding="utf-8") == "one\ntwo\n", "the save")
    finally:
        await asyncio.to_thread(server.stop)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_open_rooms_are_saved_on_a_stop_signal_without_a_tty(tmp_path, stop_signal) -> None:
    # The test server has no TTY (stdin is /dev/null), as under JupyterHub (SIGINT) or Kubernetes (SIGTERM).
    server = await asyncio.to_thread(start_server, tmp_path, NO_RATE_LIMIT, "--YDocExtension.document_save_delay=30")
    try:
        write_notebook(server.root, "stop.ipynb", [{"source": "kept = 1"}])
        async with connect(server) as mcp:
            await call(mcp, "insert_notebook_cell", path="stop.ipynb", content="saved_on_stop = 2", index=-1)
        server.process.send_signal(stop_signal)
        # Checked before anything else can stop the server (server.stop() sends SIGTERM).
        await wait_until(
            lambda: disk_sources(server.root / "stop.ipynb") == ["kept = 1", "saved_on_stop = 2"], "the save on stop"
        )
        assert "received signal" in server.log_text()
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_stop_does_not_rewrite_an_untouched_notebook(tmp_path) -> None:
    server = await asyncio.to_thread(start_server, tmp_path, NO_RATE_LIMIT)
    try:
        write_notebook(server.root, "untouched.ipynb", [{"source": "x = 1"}])  # no kernelspec, no language_info
        path = server.root / "untouched.ipynb"
        before, mtime = path.read_bytes(), os.stat(path).st_mtime_ns
        async with connect(server) as mcp:
            await call(mcp, "get_notebook", path="untouched.ipynb")  # opens its room
    finally:
        await asyncio.to_thread(server.stop)
    assert path.read_bytes() == before
    assert os.stat(path).st_mtime_ns == mtime
