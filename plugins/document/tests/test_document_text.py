"""Text documents through the live room, end to end: a real server, a real MCP client,
and a websocket collaborator in the same room."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from collab_mcp_core.testing import call, call_error, connect, join_room

ACCENTED = "héllo wörld 🎉 café\nsecond line ✓\n"


def write(root: Path, name: str, content: str | bytes) -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return name


async def test_collaborator_sees_inserts_deletes_and_replacements(collab_server) -> None:
    async with connect(collab_server) as mcp_session:
        path = write(collab_server.root, "live.md", ACCENTED)
        async with join_room(collab_server, path, kind="file") as human:
            await human.wait_for(lambda: str(human.text) == ACCENTED, what="the file's content")
            doc = await call(mcp_session, "get_document", path=path)
            assert doc["content"] == ACCENTED and doc["total_length"] == len(ACCENTED)
            assert doc["room_id"] == human.room_id

            # Insert right after the emoji: positions are code points, not UTF-8 bytes.
            after_emoji = ACCENTED.index("🎉") + 1
            result = await call(mcp_session, "insert_text", path=path, content="🚀ü", position=after_emoji)
            expected = ACCENTED[:after_emoji] + "🚀ü" + ACCENTED[after_emoji:]
            assert result["length"] == len(expected)
            await human.wait_for(lambda: str(human.text) == expected, what="the insert")

            # Delete a range spanning the emoji.
            at = expected.index("wörld")
            await call(mcp_session, "delete_text", path=path, position=at, length=len("wörld 🎉"))
            expected = expected[:at] + expected[at + len("wörld 🎉"):]
            await human.wait_for(lambda: str(human.text) == expected, what="the delete")

            # Replace a range, then append with -1.
            at = expected.index("café")
            await call(mcp_session, "update_document", path=path, content="thé", position=at, length=4)
            expected = expected[:at] + "thé" + expected[at + 4:]
            await human.wait_for(lambda: str(human.text) == expected, what="the range replacement")
            result = await call(mcp_session, "update_document", path=path, content="end ✔", position=-1)
            expected += "end ✔"
            await human.wait_for(lambda: str(human.text) == expected, what="the append")

            # Whole-document replacement, applied as a minimal diff.
            whole = expected.replace("second", "2nd 🙂")
            result = await call(mcp_session, "update_document", path=path, content=whole)
            # Only the changed characters change (a character diff inside the changed line).
            assert 0 < result["characters_removed"] <= len("second") and result["characters_added"] <= len("2nd 🙂")
            assert result["characters_added"] - result["characters_removed"] == len("2nd 🙂") - len("second")
            await human.wait_for(lambda: str(human.text) == whole, what="the whole replacement")
            assert (await call(mcp_session, "get_document", path=path))["content"] == whole


async def test_concurrent_edits_both_survive_and_disk_matches(collab_server) -> None:
    async with connect(collab_server) as mcp_session:
        base = "alpha\nbeta\ngamma\n" * 20
        path = write(collab_server.root, "concurrent.txt", base)
        async with join_room(collab_server, path, kind="file") as human:
            await human.wait_for(lambda: str(human.text) == base, what="the file's content")
            doc = await call(mcp_session, "get_document", path=path)

            async def human_types() -> None:
                for ch in "Ünïcode typing ":
                    human.text.insert(0, ch)  # position 0: byte offset 0 whatever the text
                    await asyncio.sleep(0.01)

            async def agent_edits() -> None:
                for i in range(5):
                    await call(mcp_session, "insert_text", path=path, content=f"[agent {i} ✓]", position=-1)

            await asyncio.gather(human_types(), agent_edits())
            want_prefix = "Ünïcode typing "[::-1]
            want_suffix = "".join(f"[agent {i} ✓]" for i in range(5))

            def merged() -> bool:
                s = str(human.text)
                return s.startswith(want_prefix) and s.endswith(want_suffix)

            await human.wait_for(merged, what="both sets of edits")
            final = (await call(mcp_session, "get_document", path=path))["content"]
            assert final == want_prefix + base + want_suffix
            assert final.count("[agent 0 ✓]") == 1 and doc["version"] != (await call(mcp_session, "get_document", path=path))["version"]
            # The room saves on its own (document_save_delay); the file then equals the document.
            await human.wait_for(
                lambda: (collab_server.root / path).read_text(encoding="utf-8") == final, timeout=15, what="the save"
            )


async def test_expected_version_refuses_stale_edits(collab_server) -> None:
    async with connect(collab_server) as mcp_session:
        path = write(collab_server.root, "versioned.txt", "one two")
        doc = await call(mcp_session, "get_document", path=path)
        first = await call(mcp_session, "insert_text", path=path, content=" three", position=-1, expected_version=doc["version"])
        error = await call_error(mcp_session, "insert_text", path=path, content="X", position=0, expected_version=doc["version"])
        assert "changed since you read it" in error and first["version"] in error
        assert (await call(mcp_session, "get_document", path=path))["content"] == "one two three"


async def test_character_range_and_total_length(collab_server) -> None:
    async with connect(collab_server) as mcp_session:
        path = write(collab_server.root, "range.txt", "0123456789ü🎉")
        part = await call(mcp_session, "get_document", path=path, start=9, end=12, include_collaboration_state=False)
        assert part["content"] == "9ü🎉" and part["total_length"] == 12 and part["collaborators"] is None
        error = await call_error(mcp_session, "get_document", path=path, start=5, end=13)
        assert "12 characters" in error


async def test_bad_input_changes_nothing(collab_server) -> None:
    async with connect(collab_server) as mcp_session:
        path = write(collab_server.root, "safe.txt", "ça va 🎉")
        write(collab_server.root, "image.png", b"\x89PNG\r\n\x1a\n\x00\x00binary")
        write(collab_server.root, ".hidden.txt", "secret")
        checks = [
            ("get_document", {"path": "missing.txt"}, "No document"),
            ("get_document", {"path": "../outside.txt"}, "leaves the server root"),
            ("get_document", {"path": ".hidden.txt"}, "hidden"),
            ("get_document", {"path": "image.png"}, "binary"),
            ("insert_text", {"path": path, "content": "x", "position": 8}, "out of range"),
            ("insert_text", {"path": path, "content": "x", "position": -2}, "out of range"),
            ("delete_text", {"path": path, "position": 5, "length": 3}, "past the end"),
            ("update_document", {"path": path, "content": "x", "position": 2, "length": 7}, "past the end"),
            ("insert_text", {"path": path, "content": "x", "position": 0, "fork_id": "nope"}, "No fork"),
            ("insert_text", {"path": path, "position": 0}, "content"),
        ]
        for tool, args, message in checks:
            error = await call_error(mcp_session, tool, **args)
            assert message in error, (tool, args, error)
        assert (await call(mcp_session, "get_document", path=path))["content"] == "ça va 🎉"


async def test_notebooks_are_documents_but_not_text_editable(collab_server) -> None:
    async with connect(collab_server) as mcp_session:
        (collab_server.root / "nb").mkdir(exist_ok=True)
        session = await call(mcp_session, "create_document_session", path="nb/new.ipynb", create=True)
        assert session["file_type"] == "notebook" and session["created"] and session["room_id"].startswith("json:notebook:")
        doc = await call(mcp_session, "get_document", path="nb/new.ipynb")
        assert json.loads(doc["content"])["cells"][0]["cell_type"] == "code"
        error = await call_error(mcp_session, "insert_text", path="nb/new.ipynb", content="x", position=0)
        assert "is a notebook" in error


async def test_create_document_session_never_overwrites(collab_server) -> None:
    async with connect(collab_server) as mcp_session:
        path = write(collab_server.root, "keep.md", "# Keep me ✓\n")
        session = await call(mcp_session, "create_document_session", path=path, create=True)
        assert session["created"] is False and session["file_type"] == "markdown"
        assert (await call(mcp_session, "get_document", path=path))["content"] == "# Keep me ✓\n"
        (collab_server.root / "docs").mkdir(exist_ok=True)
        fresh = await call(mcp_session, "create_document_session", path="docs/fresh.py", create=True)
        assert fresh["created"] and fresh["file_type"] == "code" and fresh["total_length"] == 0
        assert (collab_server.root / "docs" / "fresh.py").exists()
        error = await call_error(mcp_session, "create_document_session", path="absent.txt")
        assert "create=true" in error
        error = await call_error(mcp_session, "create_document_session", path="nofolder/x.txt", create=True)
        assert "does not exist" in error


async def test_list_documents_pages_without_opening_rooms(collab_server) -> None:
    async with connect(collab_server) as mcp_session:
        for i in range(5):
            write(collab_server.root, f"listing/doc{i}.md", f"# {i}\n")
        write(collab_server.root, "listing/pic.png", b"\x89PNG\x00")
        first = await call(mcp_session, "list_documents", path="listing", limit=3)
        assert [d["path"] for d in first["documents"]] == [f"listing/doc{i}.md" for i in range(3)]
        assert first["total"] == 5 and first["next_start"] == 3
        assert not any(d["room_open"] for d in first["documents"])
        second = await call(mcp_session, "list_documents", path="listing", start=first["next_start"], limit=3)
        assert [d["path"] for d in second["documents"]] == ["listing/doc3.md", "listing/doc4.md"]
        assert second["next_start"] is None
        again = await call(mcp_session, "list_documents", path="listing", limit=3)
        assert not any(d["room_open"] for d in again["documents"]), "listing must not open rooms"
        await call(mcp_session, "get_document", path="listing/doc0.md")
        opened = await call(mcp_session, "list_documents", path="listing", limit=1)
        assert opened["documents"][0]["room_open"] and opened["documents"][0]["room_id"].startswith("text:file:")
        notebooks = await call(mcp_session, "list_documents", file_type="notebook")
        assert all(d["file_type"] == "notebook" for d in notebooks["documents"])


async def test_positions_mean_the_text_the_agent_read(collab_server) -> None:
    path = write(collab_server.root, "asread.txt", "héllo wörld 🎉\nlast line\n")
    async with connect(collab_server) as agent, connect(collab_server) as observer:
        async with join_room(collab_server, path, kind="file") as human:
            await human.wait_for(lambda: str(human.text).startswith("héllo"), what="the file")
            read = (await call(agent, "get_document", path=path))["content"]
            human.text.insert(0, "Dear ")  # typed after the agent read the text

            async def server_has_it() -> None:
                while not (await call(observer, "get_document", path=path))["content"].startswith("Dear "):
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(server_has_it(), 10)
            # A position from the text the agent read lands where it meant, after the person's typing.
            at = read.index(" 🎉")
            await call(agent, "insert_text", path=path, content=" and ü", position=at)
            # A whole replacement computed from what the agent knows keeps the person's typing.
            mine = read[:at] + " and ü" + read[at:]
            await call(agent, "update_document", path=path, content=mine.replace("last line", "final line ✓"))
            expected = "Dear héllo wörld and ü 🎉\nfinal line ✓\n"
            await human.wait_for(lambda: str(human.text) == expected, what="both people's edits")

            # An edit overlapping what someone changed since is refused, and nothing changes.
            human.text.insert(len("Dear héllo w".encode()), "Ö")  # inside "wörld"

            async def server_has_o() -> None:
                while "wÖörld" not in (await call(observer, "get_document", path=path))["content"]:
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(server_has_o(), 10)
            # The agent never read "Dear ": its positions are in the text as it left it.
            mine = mine.replace("last line", "final line ✓")
            at = mine.index("wörld")
            error = await call_error(agent, "update_document", path=path, content="world", position=at, length=5)
            assert "overlaps changes" in error
            assert (await call(observer, "get_document", path=path))["content"] == expected.replace("wörld", "wÖörld")


async def test_large_documents_are_capped_and_read_by_range(collab_server) -> None:
    line = "ligne numéro {:06d} 🎉\n"
    big = "".join(line.format(i) for i in range(6000))  # 132,000 characters
    path = write(collab_server.root, "big.txt", big)
    async with connect(collab_server) as mcp:
        first = await call(mcp, "get_document", path=path, include_collaboration_state=False)
        assert first["truncated"] and first["total_length"] == len(big) == 132_000
        assert first["content"] == big[: first["end"]] and first["end"] == 100_000
        rest = await call(mcp, "get_document", path=path, start=first["end"])
        assert not rest["truncated"] and first["content"] + rest["content"] == big
        at = big.index("000042")
        await call(mcp, "update_document", path=path, content="LIGNE", position=at - len("ligne numéro "), length=5)
        whole = big.replace("ligne numéro 000042", "LIGNE numéro 000042")
        assert (await call(mcp, "get_document", path=path, start=at - 20, end=at + 20))["content"] == whole[at - 20 : at + 20]


async def test_session_less_protocol_reads_and_edits(collab_server) -> None:
    path = write(collab_server.root, "modern.md", "# Modern ✓\n")
    async with connect(collab_server, modern=True) as client, join_room(collab_server, path, kind="file") as human:
        await human.wait_for(lambda: str(human.text) == "# Modern ✓\n", what="the file")
        read = await call(client, "get_document", path=path)
        await call(client, "insert_text", path=path, content="é🎉", position=read["content"].index("✓"))
        await human.wait_for(lambda: str(human.text) == "# Modern é🎉✓\n", what="the insert")
        history = await call(client, "get_document_history", path=path)
        assert history["versions"]
