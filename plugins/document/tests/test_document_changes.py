"""What people changed in a text document since the agent's version, and waiting for it."""

from __future__ import annotations

import asyncio

from collab_mcp_core.testing import call, call_error, connect, join_room

ADA = {"user": {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace"}}


def write(collab_server, name: str, content: str) -> str:
    (collab_server.root / name).write_text(content, encoding="utf-8")
    return name


async def until_changed(mcp, path: str, since: str) -> dict:
    for _ in range(100):  # the room applies her update as it arrives: read until it is in
        found = await call(mcp, "get_document_changes", path=path, since_version=since)
        if found["changed"]:
            return found
        await asyncio.sleep(0.05)
    return found


async def test_changes_name_the_collaborator_and_own_edits_alone_report_nothing(collab_server):
    path = write(collab_server, "notes.md", "one\ntwo\nthree\n")
    async with connect(collab_server) as mcp, join_room(collab_server, path, kind="file") as ada:
        await ada.set_awareness(ADA)
        read = await call(mcp, "get_document", path=path)
        version = read["version"]
        edit = await call(mcp, "insert_text", path=path, content="zero\n", position=0)
        mine = await call(mcp, "get_document_changes", path=path, since_version=version)
        assert mine["changed"] is False and mine["diff"] is None and mine["authors"] == []
        assert mine["version"] == edit["version"]

        await ada.wait_for(lambda: str(ada.text).startswith("zero\n"), what="the agent's insert")
        ada.text.insert(len("zero\none\ntwo"), " and a half")
        found = await until_changed(mcp, path, edit["version"])
        assert found["changed"] is True and found["authors"] == ["Ada Lovelace"]
        assert found["diff"] == "@@ -2,3 +2,3 @@\n one\n-two\n+two and a half\n three"
        assert found["characters_added"] == len(" and a half") and found["characters_removed"] == 0
        again = await call(mcp, "get_document_changes", path=path, since_version=found["version"])
        assert again["changed"] is False


async def test_wait_for_document_changes_returns_at_a_keystroke_and_times_out(collab_server):
    path = write(collab_server, "wait.txt", "abc")
    async with connect(collab_server) as mcp, join_room(collab_server, path, kind="file") as ada:
        await ada.set_awareness(ADA)
        version = (await call(mcp, "get_document", path=path))["version"]
        quiet = await call(mcp, "wait_for_document_changes", path=path, since_version=version, timeout=1)
        assert quiet["timed_out"] is True and quiet["changed"] is False
        waiting = asyncio.create_task(
            call(mcp, "wait_for_document_changes", path=path, since_version=version, timeout=30)
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()
        ada.text.insert(3, "d")
        seen = await waiting
        assert seen["timed_out"] is False and seen["changed"] is True and seen["authors"] == ["Ada Lovelace"]


async def test_document_changes_bad_input(collab_server):
    one = write(collab_server, "one.txt", "1")
    two = write(collab_server, "two.txt", "2")
    (collab_server.root / "nb.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    async with connect(collab_server) as mcp, join_room(collab_server, one, kind="file") as ada:
        other = (await call(mcp, "get_document", path=two))["version"]
        await call(mcp, "get_document", path=one)
        err = await call_error(mcp, "get_document_changes", path=one, since_version=other)
        assert "is a version of 'two.txt', not of 'one.txt'" in err
        err = await call_error(mcp, "wait_for_document_changes", path=one, since_version="nope", timeout=1)
        assert "is not a version of 'one.txt'" in err
        err = await call_error(mcp, "get_document_changes", path="nb.ipynb", since_version="x")
        assert "notebook" in err
        err = await call_error(mcp, "get_document_changes", path="../x.txt", since_version="x")
        assert "leaves the server root" in err
        assert str(ada.text) == "1"
