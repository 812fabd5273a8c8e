"""History from the update store, and restores as new forward changes, end to end."""

from __future__ import annotations

import asyncio
import json

from collab_mcp_core.testing import call, call_error, connect, join_room


async def test_history_lists_edits_and_restores_are_forward_changes(collab_server, history_with, text_version) -> None:
    path = "history.md"
    (collab_server.root / path).write_text("# Notes ✓\n", encoding="utf-8")
    contents = ["# Notes ✓\n"]
    async with connect(collab_server) as mcp, join_room(collab_server, path, kind="file") as human:
        await human.wait_for(lambda: str(human.text) == contents[0], what="the file")
        for i, line in enumerate(["- première idée 🎉\n", "- second\n", "- third ü\n", "- fourth\n"]):
            await call(mcp, "insert_text", path=path, content=line, position=-1)
            contents.append(contents[-1] + line)
            await asyncio.sleep(0.2 * (i % 2))  # spread over time, unevenly
        await call(mcp, "delete_text", path=path, position=len("# Notes ✓\n"), length=len("- première idée 🎉\n"))
        contents.append(contents[-1].replace("- première idée 🎉\n", ""))

        history = await history_with(mcp, path, len(contents))
        versions = history["versions"]
        assert history["total_versions"] == len(contents)
        # Newest first, each with its content version, the agent as author and a change summary.
        assert [v["version"] for v in versions] == [text_version(c) for c in reversed(contents)]
        assert all(v["agent_edit"] and v["authors"] for v in versions[:-1])
        assert versions[0]["characters_removed"] == len("- première idée 🎉\n") and versions[0]["characters_added"] == 0
        assert versions[-2]["characters_added"] == len("- première idée 🎉\n")
        timestamps = [v["timestamp"] for v in versions]
        assert timestamps == sorted(timestamps, reverse=True)

        # Restore version k (after the second insert): exactly its content, live for the collaborator.
        k = versions[len(contents) - 1 - 2]
        restored = await call(mcp, "restore_document_version", path=path, version_id=k["version_id"])
        assert restored["version"] == text_version(contents[2])
        await human.wait_for(lambda: str(human.text) == contents[2], what="the restore")
        assert (await call(mcp, "get_document", path=path))["content"] == contents[2]

        # The restore is a new version; restoring the version before it undoes it.
        after = await history_with(mcp, path, len(contents) + 1)
        assert after["total_versions"] == len(contents) + 1
        assert after["versions"][0]["version"] == text_version(contents[2])
        before_restore = after["versions"][1]
        assert before_restore["version"] == text_version(contents[-1])
        await call(mcp, "restore_document_version", path=path, version_id=before_restore["version_id"])
        await human.wait_for(lambda: str(human.text) == contents[-1], what="the undo of the restore")


async def test_human_authors_come_from_awareness(collab_server, history_with) -> None:
    path = "typed.txt"
    (collab_server.root / path).write_text("start\n", encoding="utf-8")
    async with connect(collab_server) as mcp, join_room(collab_server, path, kind="file") as human:
        await human.wait_for(lambda: str(human.text) == "start\n", what="the file")
        await call(mcp, "get_document", path=path)  # the agent is in the room from now on
        await human.set_awareness({"user": {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace"}})
        await asyncio.sleep(0.3)  # let the awareness update arrive before the typing
        for ch in "typed by Ada ✓":
            human.text.insert(len(human.text), ch)
            await asyncio.sleep(0.01)
        history = await history_with(mcp, path, 2, newest="start\ntyped by Ada ✓")
        newest = history["versions"][0]
        assert newest["authors"] == ["Ada Lovelace"] and not newest["agent_edit"], history
        assert newest["characters_added"] == len("typed by Ada ✓")  # one burst of typing, one version


async def test_notebook_history_and_restore(collab_server, history_with) -> None:
    path = "hist.ipynb"
    async with connect(collab_server) as mcp:
        await call(mcp, "create_document_session", path=path, create=True)
        async with join_room(collab_server, path, kind="notebook") as human:
            await human.wait_for(lambda: len(human.notebook.ycells) == 1, what="the notebook")
            await asyncio.sleep(0.5)
            human.notebook.append_cell({"cell_type": "markdown", "source": "# Added by a person ✓", "metadata": {}})
            history = await history_with(mcp, path, 2)
            newest = history["versions"][0]
            assert newest["cells_added"] == 1 and newest["cells_removed"] == 0, history["versions"]
            first = history["versions"][-1]
            await call(mcp, "restore_document_version", path=path, version_id=first["version_id"])
            await human.wait_for(lambda: len(human.notebook.ycells) == 1, what="the restored notebook")
            doc = await call(mcp, "get_document", path=path)
            assert [c["cell_type"] for c in json.loads(doc["content"])["cells"]] == ["code"]


async def test_history_bad_input(collab_server) -> None:
    (collab_server.root / "h.txt").write_text("x", encoding="utf-8")
    async with connect(collab_server) as mcp:
        assert "No version" in await call_error(mcp, "restore_document_version", path="h.txt", version_id="123.5")
        assert "No version" in await call_error(mcp, "restore_document_version", path="h.txt", version_id="latest")
        assert "No document" in await call_error(mcp, "get_document_history", path="nope.txt")
        assert (await call(mcp, "get_document", path="h.txt"))["content"] == "x"
