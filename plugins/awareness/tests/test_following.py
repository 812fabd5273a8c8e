"""The agent's cursor follows the cells it edits with the notebook pack's tools (config switch)."""

from __future__ import annotations

import asyncio

import nbformat

from collab_mcp_awareness.hub import CURSOR_INTERVAL
from collab_mcp_core.testing import call, connect, join_room

ADA = {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace", "initials": "AL", "color": "#f00"}


def agent_cursor(collab):
    return next((s["cursors"][0] for s in collab.others().values() if "agent" in s and s.get("cursors")), None)


async def edit_with_the_notebook_pack(server):
    (server.root / "follow.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1")])))
    async with connect(server) as mcp, join_room(server, "follow.ipynb") as ada:
        await ada.set_awareness({"user": ADA})
        session = (await call(mcp, "get_active_sessions", path="follow.ipynb"))["sessions"][0]
        await call(mcp, "join_session", session_id=session["session_id"])
        inserted = await call(mcp, "insert_notebook_cell", path="follow.ipynb", content="y = 'é😀'\nz = 2")
        cursors = await call(mcp, "get_user_cursors", path="follow.ipynb")
        return inserted, [c for c in cursors["cursors"] if c["is_agent"]], ada


async def test_the_cursor_moves_to_the_end_of_the_inserted_cell(collab_server):
    inserted, mine, _ = await edit_with_the_notebook_pack(collab_server)
    assert len(mine) == 1
    assert (mine[0]["cell_id"], mine[0]["line"], mine[0]["column"]) == (inserted["cell_id"], 1, 5)


async def test_follow_edits_can_be_switched_off(collab_server_factory):
    server = collab_server_factory("--AwarenessPack.follow_edits=False")
    _, mine, _ = await edit_with_the_notebook_pack(server)
    assert mine == []


async def test_only_the_editing_sessions_cursor_moves_when_one_user_runs_two_agents(collab_server):
    # Both agents connect with the same token (the same user): the event's MCP session tells them apart.
    (collab_server.root / "two.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1")])))
    async with connect(collab_server) as first, connect(collab_server) as second, \
            join_room(collab_server, "two.ipynb") as ada:
        await ada.set_awareness({"user": ADA})
        room = (await call(first, "get_active_sessions", path="two.ipynb"))["sessions"][0]["session_id"]
        for agent in (first, second):
            await call(agent, "join_session", session_id=room)
        inserted = await call(first, "insert_notebook_cell", path="two.ipynb", content="y = 2")
        cursors = await call(second, "get_user_cursors", path="two.ipynb")
    agents = [c for c in cursors["cursors"] if c["is_agent"]]
    assert [c["cell_id"] for c in agents] == [inserted["cell_id"]]  # the first agent's, not the second's


async def test_a_cursor_the_agent_places_right_after_an_edit_stays_where_it_put_it(collab_server):
    # Following publishes a moment after the edit; the agent's own placement in between must win.
    (collab_server.root / "place.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1\ny = 2")])))
    async with connect(collab_server) as mcp, join_room(collab_server, "place.ipynb") as ada:
        await ada.set_awareness({"user": ADA})
        first = (await call(mcp, "read_notebook_cell", path="place.ipynb", index=0))["cell_id"]
        await call(mcp, "insert_notebook_cell", path="place.ipynb", content="z = 3")  # the cursor will follow it
        await call(mcp, "update_cursor_position", path="place.ipynb", cell_id=first,
                   cursor={"line": 1, "column": 0})
        await asyncio.sleep(2 * CURSOR_INTERVAL)  # past the moment a following cursor would be published
        cursors = await call(mcp, "get_user_cursors", path="place.ipynb")
    mine = [c for c in cursors["cursors"] if c["is_agent"]]
    assert [(c["cell_id"], c["line"], c["column"]) for c in mine] == [(first, 1, 0)]


async def test_a_run_of_edits_sends_the_collaborator_fewer_cursor_updates_than_edits(collab_server):
    (collab_server.root / "run.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1")])))
    async with connect(collab_server) as mcp, join_room(collab_server, "run.ipynb") as ada:
        await ada.set_awareness({"user": ADA})
        await call(mcp, "read_notebook_cell", path="run.ipynb", index=0)  # the agent is present
        moves = []  # the agent's cursor as the collaborator sees it, at each change of it
        ada.awareness.observe(lambda topic, _: topic == "change" and moves.append(agent_cursor(ada)))
        for k in range(20):
            last = await call(mcp, "insert_notebook_cell", path="run.ipynb", content=f"y = {k}")
        cursors = await call(mcp, "get_user_cursors", path="run.ipynb")
    mine = [c for c in cursors["cursors"] if c["is_agent"]]
    assert [c["cell_id"] for c in mine] == [last["cell_id"]]  # it follows to the last edit
    distinct = [m for i, m in enumerate(moves) if m is not None and (i == 0 or m != moves[i - 1])]
    assert 1 <= len(distinct) < 20  # coalesced: not one awareness update per edit
