"""A pack hears a room's lifecycle from the backend's room events: opened, joined, left, closed.

The pack (``room_events_pack``) subscribes when the host starts and never looks at
the rooms itself; a websocket collaborator opens, joins and leaves a real room.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from collab_mcp_core.testing import call, connect, connect_stdio, join_room

TESTS = Path(__file__).parent
PACK = "--CollabMCP.extra_packs=room_events_pack"
PERSON = {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace", "initials": "AL", "color": "#f00"}


async def heard(session, path, want, timeout=20.0):
    """The changes the pack heard about ``path``, once ``want`` is a subsequence of them."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        events = (await call(session, "room_events_heard", path=path))["events"]
        changes = [(e["change"], e["username"]) for e in events]
        remaining = iter(changes)
        if all(w in remaining for w in want):
            return changes
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the pack heard {changes}, not {want} in that order")
        await asyncio.sleep(0.1)


async def leave(person):
    """Leave as a browser tab does: a null awareness state, then the socket closes."""
    from pycrdt import create_awareness_message

    person.awareness.set_local_state(None)
    update = person.awareness.encode_awareness_update([person.awareness.client_id])
    await person._ws.write_message(create_awareness_message(update), binary=True)  # noqa: SLF001


async def test_a_pack_hears_a_room_open_a_person_join_and_leave_and_the_room_close(collab_server_factory):
    server = collab_server_factory(
        PACK, "--YDocExtension.document_cleanup_delay=1",
        env={"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])},
    )
    (server.root / "watched.txt").write_text("hello\n")
    async with connect(server) as session:
        async with join_room(server, "watched.txt", kind="file") as person:
            await person.set_awareness({"user": PERSON})
            await heard(session, "watched.txt", [("opened", None), ("joined", "ada")])
            await leave(person)
            await heard(session, "watched.txt", [("opened", None), ("joined", "ada"), ("left", "ada")])
        # The last websocket client is gone: jupyter-server-ydoc deletes the room after its cleanup delay.
        changes = await heard(session, "watched.txt", [("opened", None), ("joined", "ada"), ("left", "ada"), ("closed", None)])
        assert changes.count(("joined", "ada")) == 1 and changes.count(("left", "ada")) == 1, changes

        # The room opens again for the next person, as a new room.
        async with join_room(server, "watched.txt", kind="file") as person:
            await person.set_awareness({"user": PERSON})
            changes = await heard(session, "watched.txt", [("closed", None), ("opened", None), ("joined", "ada")])
            await leave(person)


async def test_the_remote_backend_tells_a_pack_of_rooms_it_joined_and_who_comes_and_goes(collab_server_factory, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    server = collab_server_factory(collab_mcp=False)
    (server.root / "remote.txt").write_text("hello\n")
    async with connect_stdio(server, "--mode", "remote", PACK) as session:
        await call(session, "get_document", path="remote.txt")  # the agent joins the room
        await heard(session, "remote.txt", [("opened", None)])
        async with join_room(server, "remote.txt", kind="file") as person:
            await person.set_awareness({"user": PERSON})
            await heard(session, "remote.txt", [("opened", None), ("joined", "ada")])
            await leave(person)
            await heard(session, "remote.txt", [("opened", None), ("joined", "ada"), ("left", "ada")])


@pytest.mark.parametrize("change", ["opened", "closed", "joined", "left"])
def test_room_event_changes_are_the_documented_ones(change):
    from typing import get_args

    from collab_mcp_core.room_events import RoomChange

    assert change in get_args(RoomChange)
