"""Presence by default: an agent that only reads, edits and runs is a collaborator, named after its client."""

from __future__ import annotations

import asyncio

import pytest
from mcp.types import Implementation

from collab_mcp_core.testing import call, connect, join_room

from .test_presence_sessions import ADA, agent_states, write_notebook

CLAUDE = Implementation(name="claude-code", title="Claude Code", version="2.0")
CURSOR = Implementation(name="cursor", version="1.0")


async def test_an_agent_that_only_edits_is_present_named_after_its_client(collab_server):
    path = write_notebook(collab_server.root, "auto.ipynb")
    async with join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        async with connect(collab_server, client_info=CLAUDE) as mcp:
            inserted = await call(mcp, "insert_notebook_cell", path=path, content="y = 2")
            state = (await ada.wait_for(lambda: agent_states(ada), timeout=2.0, what="the agent present"))[0]
            # The token identity is no person: the client's name alone.
            assert state["user"]["name"] == state["user"]["display_name"] == "Claude Code"
            assert state["user"]["initials"] == "CC" and state["user"]["color"].startswith("#")
            assert "autosave" not in state
            # Its cursor is in the cell it inserted.
            cursors = await call(mcp, "get_user_cursors", path=path)
            mine = [c for c in cursors["cursors"] if c["is_agent"]]
            assert mine and mine[0]["cell_id"] == inserted["cell_id"]
            sessions = await call(mcp, "get_active_sessions", path=path)
            assert sessions["sessions"][0]["joined"] is True
            activity = await call(mcp, "get_user_activity", path=path)
            assert any(e["description"].startswith("Claude Code used insert_notebook_cell") for e in activity["entries"])
        # DELETE of the MCP session: the agent leaves at once.
        await ada.wait_for(lambda: not agent_states(ada), timeout=1.0, what="the agent leave with its session")


async def test_two_sessions_are_two_collaborators_with_their_own_names_and_colours(collab_server):
    path = write_notebook(collab_server.root, "pair.ipynb")
    async with join_room(collab_server, path) as ada, connect(collab_server, client_info=CLAUDE) as one, \
            connect(collab_server, client_info=CURSOR) as two:
        await ada.set_awareness({"user": ADA})
        await call(one, "get_notebook", path=path)  # reading is enough
        await call(two, "insert_notebook_cell", path=path, content="z = 3")
        states = await ada.wait_for(lambda: len(agent_states(ada)) == 2 and agent_states(ada), timeout=2.0,
                                    what="both agents")
        assert sorted(s["user"]["name"] for s in states) == ["Claude Code", "cursor"]
        assert states[0]["user"]["color"] != states[1]["user"]["color"]


async def test_a_modern_client_without_session_is_present_too(collab_server):
    path = write_notebook(collab_server.root, "modern.ipynb")
    async with join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        async with connect(collab_server, modern=True, client_info=CLAUDE) as mcp:
            await call(mcp, "get_notebook", path=path)
            state = (await ada.wait_for(lambda: agent_states(ada), timeout=2.0, what="the modern agent"))[0]
            assert state["user"]["name"] == "Claude Code"


async def test_set_user_presence_before_any_document_says_where_it_will_show(collab_server):
    path = write_notebook(collab_server.root, "later.ipynb")
    async with connect(collab_server, client_info=CLAUDE) as mcp, join_room(collab_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        early = await call(mcp, "set_user_presence", status="busy", message="warming up")
        assert early["sessions"] == [] and "no document yet" in early["note"]
        await call(mcp, "get_notebook", path=path)  # entering a room later carries the status
        state = (await ada.wait_for(lambda: agent_states(ada), timeout=2.0, what="the agent"))[0]
        assert state["agent"]["status"] == "busy" and state["agent"]["message"] == "warming up"
        now = await call(mcp, "set_user_presence", status="online")
        assert now["documents"] == [path] and now["note"] is None


@pytest.fixture(scope="module")
def quiet_server(collab_server_factory):
    return collab_server_factory("--Limits.rate_per_second=0", "--AwarenessPack.auto_presence=False")


@pytest.fixture(scope="module")
def idle_server(collab_server_factory):
    return collab_server_factory("--Limits.rate_per_second=0", "--AwarenessPack.presence_idle_timeout=1")


async def test_auto_presence_off_keeps_the_agent_out_until_it_joins(quiet_server):
    path = write_notebook(quiet_server.root, "quiet.ipynb")
    async with connect(quiet_server, client_info=CLAUDE) as mcp, join_room(quiet_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        await call(mcp, "insert_notebook_cell", path=path, content="q = 1")
        await asyncio.sleep(1.0)  # a presence would be there well within this
        assert agent_states(ada) == []
        early = await call(mcp, "set_user_presence", status="busy")
        assert "join_session" in early["note"]


async def test_an_idle_agent_leaves_and_comes_back_with_its_next_call(idle_server):
    path = write_notebook(idle_server.root, "idle.ipynb")
    async with connect(idle_server, client_info=CLAUDE) as mcp, join_room(idle_server, path) as ada:
        await ada.set_awareness({"user": ADA})
        await call(mcp, "get_notebook", path=path)
        await ada.wait_for(lambda: agent_states(ada), timeout=2.0, what="the agent")
        await ada.wait_for(lambda: not agent_states(ada), timeout=10.0, what="the idle agent leave")
        await call(mcp, "get_notebook", path=path)
        await ada.wait_for(lambda: agent_states(ada), timeout=2.0, what="the agent come back")
        # A run longer than the idle time keeps it present.
        cell = (await call(mcp, "insert_notebook_cell", path=path, content="import time; time.sleep(3)"))["cell_id"]
        running = asyncio.create_task(call(mcp, "execute_notebook_cell", path=path, cell_id=cell, timeout=60))
        await ada.wait_for(lambda: any(c.get("execution_state") == "running" for c in ada.notebook.ycells.to_py()),
                           timeout=30.0, what="the cell run")
        for _ in range(25):  # 2.5 s, past the idle time, while the cell runs
            assert agent_states(ada), "the agent left while its cell was running"
            await asyncio.sleep(0.1)
        assert (await running)["status"] == "ok"
