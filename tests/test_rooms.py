"""Rooms agents open on demand: edits reach the disk through the room, and idle rooms close."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import httpx2
import pytest

from collab_mcp_core.testing import call, connect, join_room

TESTS = Path(__file__).parent
ENV = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture(scope="module")
def server(collab_server_factory):
    return collab_server_factory(
        "--CollabMCP.extra_packs=sample_pack", "--CollabMCP.room_idle_timeout=1", env=ENV
    )


async def wait_until(predicate, timeout=15.0, what="the condition"):
    with anyio.fail_after(timeout, reason=f"timed out waiting for {what}"):
        while not predicate():
            await anyio.sleep(0.1)


async def test_a_file_nobody_has_open_is_edited_through_a_room_and_saved(server):
    target = server.root / "closed.txt"
    target.write_text("one\n")
    async with connect(server) as session:
        await call(session, "append_text", path="closed.txt", text="two\n")
    await wait_until(lambda: target.read_text() == "one\ntwo\n", what="the room to save the edit")
    await wait_until(lambda: "closed idle room text:file:" in server.log_text(), what="the idle room to close")


async def test_a_room_with_people_in_it_is_not_closed(server):
    target = server.root / "busy.txt"
    target.write_text("a\n")
    async with join_room(server, "busy.txt", kind="file") as person:
        async with connect(server) as session:
            await call(session, "append_text", path="busy.txt", text="b\n")
        await anyio.sleep(3)  # several idle periods
        assert f"closed idle room {person.room_id}" not in server.log_text()
        # the person still shares a live room with the agent: a new edit reaches them
        async with connect(server) as session:
            await call(session, "append_text", path="busy.txt", text="c\n")
        await person.wait_for(lambda: str(person.text) == "a\nb\nc\n", what="the later edit")


async def room_id_of(server, path: str) -> str:
    async with httpx2.AsyncClient() as http:
        answer = await http.put(
            server.url + f"api/collaboration/session/{path}", json={"format": "text", "type": "file"}, headers=server.headers
        )
    info = answer.json()
    return f"text:file:{info['fileId']}"


async def test_reopening_after_close_does_not_duplicate(server):
    target = server.root / "again.txt"
    target.write_text("x\n")
    room_id = await room_id_of(server, "again.txt")
    async with connect(server) as session:
        await call(session, "append_text", path="again.txt", text="y\n")
        await wait_until(lambda: target.read_text() == "x\ny\n", what="the first save")
        await wait_until(lambda: f"closed idle room {room_id}" in server.log_text(), what="the room to close")
        await call(session, "append_text", path="again.txt", text="z\n")
    await wait_until(lambda: target.read_text() == "x\ny\nz\n", what="the second save, without duplicates")
