"""History survives a server restart and lives under the server's data directory."""

from __future__ import annotations

import asyncio
import sqlite3

from collab_mcp_core.testing import call, connect, join_room, start_server



async def test_history_survives_restart_and_is_stored_under_data_dir(tmp_path, history_with) -> None:
    server = await asyncio.to_thread(start_server, tmp_path)
    try:
        (server.root / "kept.txt").write_text("v1 ✓\n", encoding="utf-8")
        (server.root / "browser.txt").write_text("opened by a browser\n", encoding="utf-8")
        async with connect(server) as mcp:
            await call(mcp, "insert_text", path="kept.txt", content="v2 ü\n", position=-1)
            await call(mcp, "insert_text", path="kept.txt", content="v3 🎉\n", position=-1)
            before = await history_with(mcp, "kept.txt", 3)
            assert before["total_versions"] == 3
            # A room a browser opens (websocket path) keeps its history in the same store.
            async with join_room(server, "browser.txt", kind="file") as human:
                await human.wait_for(lambda: str(human.text).startswith("opened"), what="the file")
                human.text.insert(0, "typed ")
                await history_with(mcp, "browser.txt", 2)
            await human.wait_for(
                lambda: (server.root / "kept.txt").read_text(encoding="utf-8") == "v1 ✓\nv2 ü\nv3 🎉\n",
                timeout=15, what="the save",
            )
    finally:
        await asyncio.to_thread(server.stop)

    store = server.data_dir / "collab_mcp" / "jupyter_ystore.db"
    assert store.exists(), "history must be stored under the server's data directory"
    assert not (tmp_path / "home" / "cwd" / ".jupyter_ystore.db").exists(), "nothing in the working directory"
    with sqlite3.connect(store) as db:
        documents = {row[0] for row in db.execute("SELECT DISTINCT path FROM yupdates")}
    assert len(documents) == 2, documents  # the agent-opened and the browser-opened room

    server = await asyncio.to_thread(start_server, tmp_path)  # same root, data and working directory
    try:
        async with connect(server) as mcp:
            after = await call(mcp, "get_document_history", path="kept.txt", limit=50)
            assert [v["version_id"] for v in after["versions"]][: len(before["versions"])] == [
                v["version_id"] for v in before["versions"]
            ]
            assert after["versions"][0]["authors"] == before["versions"][0]["authors"] != []
            first = before["versions"][-1]
            await call(mcp, "restore_document_version", path="kept.txt", version_id=first["version_id"])
            assert (await call(mcp, "get_document", path="kept.txt"))["content"] == "v1 ✓\n"
    finally:
        await asyncio.to_thread(server.stop)


async def test_an_edit_just_before_shutdown_is_saved(tmp_path) -> None:
    # A long save delay: without the pack's save on stop, the room's pending save is cancelled.
    args = ("--YDocExtension.document_save_delay=30",)
    server = await asyncio.to_thread(start_server, tmp_path, *args)
    try:
        (server.root / "late.txt").write_text("before ✓\n", encoding="utf-8")
        async with connect(server) as mcp:
            await call(mcp, "insert_text", path="late.txt", content="just before shutdown 🎉\n", position=-1)
    finally:
        await asyncio.to_thread(server.stop)
    assert (server.root / "late.txt").read_text(encoding="utf-8") == "before ✓\njust before shutdown 🎉\n"

    server = await asyncio.to_thread(start_server, tmp_path, *args)
    try:
        async with connect(server) as mcp:
            content = (await call(mcp, "get_document", path="late.txt"))["content"]
            assert content == "before ✓\njust before shutdown 🎉\n"  # once, from the store or the disk
    finally:
        await asyncio.to_thread(server.stop)
