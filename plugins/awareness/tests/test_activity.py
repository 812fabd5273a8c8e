"""Activity end to end: the log built from events, announcements, Jupyter's event bus, MCP notifications."""

from __future__ import annotations

import asyncio
import json

import anyio
import nbformat
import pytest

from collab_mcp_core.testing import call, call_error, connect, join_room

ADA = {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace", "initials": "AL", "color": "#f00"}


@pytest.fixture(scope="module")
def server(collab_server_factory):
    return collab_server_factory()


def write_notebook(root, name: str) -> str:
    (root / name).write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])))
    return name


async def test_joins_leaves_and_announcements_are_activity(server):
    path = write_notebook(server.root, "activity.ipynb")
    other = write_notebook(server.root, "other.ipynb")
    async with connect(server) as mcp:
        async with join_room(server, path) as ada:
            await ada.set_awareness({"user": ADA})
            session_id = (await call(mcp, "get_active_sessions", path=path))["sessions"][0]["session_id"]
            await call(mcp, "join_session", session_id=session_id)
            await call(mcp, "set_user_presence", status="busy", message="cleaning data")
            announced = await call(mcp, "broadcast_user_activity", activity_type="analysis_started",
                                   description="Profiling the loader", path=path,
                                   metadata={"cells": 3, "note": "héllo 😀"})
            assert announced["activity_type"] == "analysis_started" and announced["path"] == path
            await call(mcp, "broadcast_user_activity", activity_type="elsewhere", description="x", path=other)
            await call(mcp, "word_count", path=path)  # another pack's tool: a tool_called entry
            await call(mcp, "leave_session", session_id=session_id)
        await asyncio.sleep(0.3)

        recent = await call(mcp, "get_user_activity", path=path, limit=50)
        assert recent["path"] == path and all(e["path"] == path for e in recent["entries"])
        kinds = [(e["activity_type"], e["user_id"], e["details"].get("change")) for e in recent["entries"]]
        me = announced["user_id"]
        assert ("presence_changed", "ada", "joined") in kinds
        assert ("presence_changed", me, "joined") in kinds and ("presence_changed", me, "left") in kinds
        assert ("analysis_started", me, None) in kinds
        announcement = next(e for e in recent["entries"] if e["activity_type"] == "analysis_started")
        assert "Profiling the loader" in announcement["description"]
        assert announcement["details"]["metadata"] == {"cells": 3, "note": "héllo 😀"}
        stamps = [e["timestamp"] for e in recent["entries"]]
        assert stamps == sorted(stamps, reverse=True)  # newest first

        everything = await call(mcp, "get_user_activity", limit=100)
        types_seen = {e["activity_type"] for e in everything["entries"]}
        assert {"tool_called", "presence_changed", "analysis_started", "elsewhere"} <= types_seen
        called = [e for e in everything["entries"] if e["activity_type"] == "tool_called"]
        assert [e["details"]["tool"] for e in called] == ["word_count"]  # this pack's own calls are not noise
        status = next(e for e in everything["entries"] if e["details"].get("change") == "status")
        assert "busy" in status["description"] and "cleaning data" in status["description"]
        assert len((await call(mcp, "get_user_activity", limit=2))["entries"]) == 2

    # The announcement and the presence changes reached Jupyter's event bus with their schemas.
    with anyio.fail_after(10):
        while True:
            records = server.events()
            schemas = {r.get("__schema__", "").rsplit("/", 1)[-1] for r in records}
            if {"user_activity", "presence_changed"} <= schemas:
                break
            await anyio.sleep(0.1)
    shared = next(r for r in records if r["__schema__"].endswith("/user_activity") and r["activity_type"] == "analysis_started")
    # The event names the identity (actor); the agent is that identity in one MCP session (user_id).
    assert shared["description"] == "Profiling the loader" and shared["path"] == path
    assert me.startswith(shared["actor"] + "/")


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")  # the 2025-11-25 protocol has it
async def test_subscribers_are_notified_of_presence_and_announcements(server):
    path = write_notebook(server.root, "watched.ipynb")
    uri = f"awareness://{path}"
    updates: list[str] = []

    async def on_message(message):
        if getattr(message, "method", None) == "notifications/resources/updated":
            updates.append(str(message.params.uri))

    async with join_room(server, path) as ada, connect(server, message_handler=on_message) as watcher, \
            connect(server) as agent:
        await ada.set_awareness({"user": ADA})
        listed = await watcher.list_resources()
        assert uri in [str(r.uri) for r in listed.resources]
        content = json.loads((await watcher.read_resource(uri)).contents[0].text)
        assert [u["user_id"] for u in content["users"]] == ["ada"]
        await watcher.subscribe_resource(uri)
        await call(agent, "broadcast_user_activity", activity_type="review", description="Reviewing", path=path)
        with anyio.fail_after(5):
            while uri not in updates:
                await anyio.sleep(0.05)
        content = json.loads((await watcher.read_resource(uri)).contents[0].text)
        assert content["recent_activity"][0]["activity_type"] == "review"


async def test_bad_activity_input_is_a_clear_error_and_changes_nothing(server):
    path = write_notebook(server.root, "quiet.ipynb")
    async with connect(server) as mcp:
        before = await call(mcp, "get_user_activity", path=path)
        assert "activity_type" in await call_error(mcp, "broadcast_user_activity", activity_type="no spaces!",
                                                   description="x")
        assert "description" in await call_error(mcp, "broadcast_user_activity", activity_type="ok", description="")
        assert "No document" in await call_error(mcp, "broadcast_user_activity", activity_type="ok",
                                                 description="x", path="missing.ipynb")
        error = await call_error(mcp, "broadcast_user_activity", activity_type="ok", description="x",
                                 path=path, metadata={"blob": "x" * 5000})
        assert "metadata" in error and "4000" in error
        assert "limit" in await call_error(mcp, "get_user_activity", limit=0)
        assert "leaves the server root" in await call_error(mcp, "get_user_activity", path="../x")
        after = await call(mcp, "get_user_activity", path=path)
        assert after["entries"] == before["entries"] == []


async def test_the_server_logged_no_error(server):
    assert server.tracebacks() == []
