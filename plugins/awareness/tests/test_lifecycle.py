"""Rooms that close and reopen, the session-less protocol, and documents the caller may not read."""

from __future__ import annotations

import asyncio

import nbformat
import pytest

from collab_mcp_core.testing import call, call_error, connect, join_room

ADA = {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace", "initials": "AL", "color": "#f00"}


@pytest.fixture(scope="module")
def server(collab_server_factory):
    # Rooms are deleted half a second after their last websocket client leaves (60 s by default).
    return collab_server_factory("--YDocExtension.document_cleanup_delay=0.5")


def write_notebook(root, name: str) -> str:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])))
    return name


def agent_states(collab) -> list[dict]:
    return [s for s in collab.others().values() if "agent" in s]


async def test_the_agent_reappears_when_a_closed_room_reopens(server):
    path = write_notebook(server.root, "reopen.ipynb")
    async with connect(server) as mcp:
        async with join_room(server, path) as ada:
            await ada.set_awareness({"user": ADA})
            session_id = (await call(mcp, "get_active_sessions", path=path))["sessions"][0]["session_id"]
            await call(mcp, "join_session", session_id=session_id)
            await ada.wait_for(lambda: agent_states(ada), timeout=1.0, what="the agent")
        for _ in range(100):  # the room is deleted once nobody is connected
            if not (await call(mcp, "get_active_sessions"))["sessions"]:
                break
            await asyncio.sleep(0.1)
        assert "not open" in await call_error(mcp, "get_online_users", path=path)
        async with join_room(server, path) as again:  # a new room, with a new awareness
            await again.set_awareness({"user": ADA})
            await again.wait_for(lambda: agent_states(again), timeout=2.0, what="the agent in the reopened room")
            sessions = await call(mcp, "get_active_sessions", path=path)
            assert sessions["sessions"][0]["joined"] is True


async def test_the_session_less_protocol_works_too(server):
    path = write_notebook(server.root, "modern.ipynb")
    async with join_room(server, path) as ada, connect(server, modern=True) as client:
        await ada.set_awareness({"user": ADA})
        session_id = (await call(client, "get_active_sessions", path=path))["sessions"][0]["session_id"]
        await call(client, "join_session", session_id=session_id)
        await ada.wait_for(lambda: agent_states(ada), timeout=1.0, what="the agent")
        await call(client, "leave_session", session_id=session_id)
        await ada.wait_for(lambda: not agent_states(ada), timeout=1.0, what="the agent leave")


async def test_documents_the_caller_may_not_read_are_not_shown(server):
    # The example pack (a dev dependency) denies every path under secret/.
    secret = write_notebook(server.root, "secret/plans.ipynb")
    async with join_room(server, secret) as ada, connect(server) as mcp:
        await ada.set_awareness({"user": ADA})
        await asyncio.sleep(0.3)
        assert "Permission denied" in await call_error(mcp, "get_online_users", path=secret)
        assert "Permission denied" in await call_error(mcp, "get_user_cursors", path=secret)
        sessions = await call(mcp, "get_active_sessions")
        assert secret not in [s["path"] for s in sessions["sessions"]]
        online = await call(mcp, "get_online_users")
        assert all(secret not in u["documents"] for u in online["users"])
        # A session the caller may not read is not found, and its path is not said.
        refused = await call_error(mcp, "join_session", session_id=ada.room_id)
        assert refused.startswith(f"No open collaboration session {ada.room_id!r}") and secret not in refused
        assert not agent_states(ada)
