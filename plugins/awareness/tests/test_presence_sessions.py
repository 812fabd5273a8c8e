"""Presence and sessions, end to end: a real server, a real MCP client, websocket collaborators."""

from __future__ import annotations

import asyncio
import json
import time

import nbformat

from collab_mcp_core.testing import call, call_error, connect, join_room

ADA = {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace", "initials": "AL", "color": "#f00",
       "avatar_url": None}
GRACE = {"username": "grace", "name": "Grace", "display_name": "Grace Hopper", "initials": "GH", "color": "#0f0",
         "avatar_url": None}


def write_notebook(root, name: str, sources=("x = 1",)) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    (root / name).write_text(nbformat.writes(nb))
    return name


def agent_states(collab) -> list[dict]:
    return [s for s in collab.others().values() if "agent" in s]


async def session_of(mcp, path: str) -> str:
    found = await call(mcp, "get_active_sessions", path=path)
    return found["sessions"][0]["session_id"]


async def test_collaborators_appear_in_online_users(collab_server):
    path = write_notebook(collab_server.root, "online.ipynb")
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada, \
            join_room(collab_server, path) as grace:
        await ada.set_awareness({"user": ADA, "cursors": []})
        await grace.set_awareness({"user": GRACE})
        await asyncio.sleep(0.3)
        everyone = await call(mcp, "get_online_users")
        by_id = {u["user_id"]: u for u in everyone["users"]}
        assert {"ada", "grace"} <= set(by_id)
        assert by_id["ada"]["display_name"] == "Ada Lovelace" and by_id["ada"]["documents"] == [path]
        assert by_id["ada"]["is_agent"] is False and by_id["ada"]["status"] == "online"
        assert by_id["ada"]["last_activity"] is not None
        in_doc = await call(mcp, "get_online_users", path=path)
        assert sorted(u["user_id"] for u in in_doc["users"]) == ["ada", "grace"]
        presence = await call(mcp, "get_user_presence", user_id="grace")
        assert presence["documents"] == [path] and presence["status"] == "online"
        sessions = await call(mcp, "get_active_sessions")
        session = next(s for s in sessions["sessions"] if s["path"] == path)
        assert session["session_id"].startswith("json:notebook:") and session["participant_count"] == 2
        assert session["joined"] is False


async def test_join_shows_the_agent_and_leave_removes_it_at_once(collab_server):
    path = write_notebook(collab_server.root, "join.ipynb")
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        session_id = await session_of(mcp, path)
        started = time.monotonic()
        joined = await call(mcp, "join_session", session_id=session_id)
        states = await ada.wait_for(lambda: agent_states(ada), timeout=1.0, what="the agent's awareness state")
        assert time.monotonic() - started < 1.0
        state = states[0]
        assert joined["already_joined"] is False and joined["session"]["joined"] is True
        assert ada.awareness.states[joined["client_id"]] == state
        user = state["user"]
        assert user["display_name"] and user["name"] and user["color"] and user["initials"] and user["username"]
        assert "autosave" not in state and state["agent"]["status"] == "online"

        again = await call(mcp, "join_session", session_id=session_id)
        assert again["already_joined"] is True and len(agent_states(ada)) == 1

        online = await call(mcp, "get_online_users", path=path)
        agent = next(u for u in online["users"] if u["is_agent"])
        assert agent["user_id"] == user["username"] and agent["sessions"] == [session_id]

        left = await call(mcp, "leave_session", session_id=session_id)
        assert left["left"] is True and left["remaining_sessions"] == []
        await ada.wait_for(lambda: not agent_states(ada), timeout=0.5, what="the agent leave at once")
        online = await call(mcp, "get_online_users", path=path)
        assert [u["user_id"] for u in online["users"]] == ["ada"]


async def test_a_new_joiner_sees_the_agent_immediately(collab_server):
    path = write_notebook(collab_server.root, "newcomer.ipynb")
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        await call(mcp, "join_session", session_id=await session_of(mcp, path))
        await ada.wait_for(lambda: agent_states(ada), timeout=1.0, what="the agent")
        async with join_room(collab_server, path) as grace:
            await grace.set_awareness({"user": GRACE})  # JupyterLab announces itself on connect
            await grace.wait_for(lambda: agent_states(grace), timeout=1.0, what="the agent, as a new joiner")


async def test_presence_status_is_published_and_offline_hides_the_agent(collab_server):
    path = write_notebook(collab_server.root, "status.ipynb")
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        await call(mcp, "join_session", session_id=await session_of(mcp, path))
        mine = await call(mcp, "set_user_presence", status="busy", message="refactoring the loader")
        assert mine["status"] == "busy" and mine["documents"] == [path]
        await ada.wait_for(
            lambda: any(s["agent"]["status"] == "busy" and s["agent"]["message"] == "refactoring the loader"
                        for s in agent_states(ada)),
            timeout=1.0, what="the busy status",
        )
        me = await call(mcp, "get_user_presence", user_id=mine["user_id"])
        assert me["is_agent"] and me["status"] == "busy" and me["status_message"] == "refactoring the loader"

        await call(mcp, "set_user_presence", status="offline")
        await ada.wait_for(lambda: not agent_states(ada), timeout=1.0, what="the agent disappear when offline")
        me = await call(mcp, "get_user_presence", user_id=mine["user_id"])
        assert me["status"] == "offline"
        online = await call(mcp, "get_online_users")
        assert mine["user_id"] not in [u["user_id"] for u in online["users"]]

        await call(mcp, "set_user_presence")  # back online, still a member of the session
        await ada.wait_for(lambda: agent_states(ada), timeout=1.0, what="the agent come back")


async def test_closing_the_mcp_session_removes_the_agent(collab_server):
    path = write_notebook(collab_server.root, "closing.ipynb")
    async with join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        async with connect(collab_server) as mcp:
            await call(mcp, "join_session", session_id=await session_of(mcp, path))
            await ada.wait_for(lambda: agent_states(ada), timeout=1.0, what="the agent")
        await ada.wait_for(lambda: not agent_states(ada), timeout=2.0, what="the agent leave with its MCP session")


async def test_two_agents_are_two_collaborators(collab_server):
    path = write_notebook(collab_server.root, "two.ipynb")
    async with connect(collab_server) as one, connect(collab_server) as two, join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        session_id = await session_of(one, path)
        first = await call(one, "join_session", session_id=session_id)
        second = await call(two, "join_session", session_id=session_id)
        assert first["client_id"] != second["client_id"]
        await ada.wait_for(lambda: len(agent_states(ada)) == 2, timeout=1.0, what="both agents")
        await call(one, "leave_session", session_id=session_id)
        await ada.wait_for(lambda: len(agent_states(ada)) == 1, timeout=1.0, what="one agent leave")
        assert ada.awareness.states.get(second["client_id"])


async def test_bad_input_is_a_clear_error_and_changes_nothing(collab_server):
    path = write_notebook(collab_server.root, "bad.ipynb")
    closed = write_notebook(collab_server.root, "closed.ipynb")
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        session_id = await session_of(mcp, path)
        await call(mcp, "join_session", session_id=session_id)
        await call(mcp, "set_user_presence", status="away", message="lunch")

        assert "No user 'nobody' is online" in await call_error(mcp, "get_user_presence", user_id="nobody")
        error = await call_error(mcp, "get_online_users", path=closed)
        assert "not open" in error and path in error
        assert "No document" in await call_error(mcp, "get_online_users", path="missing.ipynb")
        error = await call_error(mcp, "join_session", session_id="json:notebook:nope")
        assert "No open collaboration session" in error and session_id in error
        error = await call_error(mcp, "leave_session", session_id="json:notebook:nope")
        assert "No collaboration session" in error and session_id in error
        error = await call_error(mcp, "set_user_presence", status="sleeping")
        assert "status" in error and "online" in error

        await asyncio.sleep(0.2)
        states = agent_states(ada)
        assert len(states) == 1 and states[0]["agent"] == {**states[0]["agent"], "status": "away", "message": "lunch"}
        me = await call(mcp, "get_user_presence", user_id=states[0]["user"]["username"])
        assert me["status"] == "away" and me["sessions"] == [session_id]
        assert json.dumps(states[0])  # JSON-clean, as JupyterLab receives it


async def test_the_server_logged_no_error(collab_server):
    log = collab_server.log_text()
    assert collab_server.tracebacks() == [] and "Cannot broadcast" not in log and "could not publish" not in log
