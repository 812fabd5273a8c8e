"""RemoteRoom: an agent's copy of a remote room is a real participant, and survives a dropped websocket."""

from __future__ import annotations

import json

import pytest
from jupyter_ydoc import YNotebook

from collab_mcp_core.connect import Target
from collab_mcp_core import state_vector
from collab_mcp_core.remote_room import RemoteRoom
from collab_mcp_core.testing import join_room

NOTEBOOK = ("json", "notebook")


@pytest.fixture(scope="module")
def plain_server(collab_server_factory):
    return collab_server_factory(collab_mcp=False)


def write_notebook(server, name: str, sources: list[str]) -> None:
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for i, s in enumerate(sources)]
    (server.root / name).write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def sources(notebook: YNotebook) -> list[str]:
    return [str(cell["source"]) for cell in notebook.ycells]


def test_state_vectors_decode():
    import pycrdt

    doc = pycrdt.Doc(client_id=300)
    doc["t"] = text = pycrdt.Text()
    text += "hello"
    assert state_vector(doc) == {300: 5}


async def test_edits_go_both_ways_and_survive_a_dropped_websocket(plain_server):
    write_notebook(plain_server, "r.ipynb", ["a = 1"])
    target = Target(plain_server.url, plain_server.token)
    room = RemoteRoom(target, "r.ipynb", NOTEBOOK)
    await room.start()
    try:
        assert sources(room.document) == ["a = 1"]
        async with join_room(plain_server, "r.ipynb") as ada:
            assert ada.room_id == room.room_id
            room.document.append_cell({"cell_type": "code", "source": "b = 2", "metadata": {}, "outputs": []})
            await ada.wait_for(lambda: sources(ada.notebook) == ["a = 1", "b = 2"], what="the agent's cell")
            ada.notebook.append_cell({"cell_type": "markdown", "source": "from ada", "metadata": {}})
            await ada.wait_for(lambda: len(sources(room.document)) == 3, what="ada's cell reaching the agent")

            # Cut the websocket and edit while it is down: the edit arrives once after the reconnection.
            room.drop_connection()
            await ada.wait_for(lambda: not room.synced.is_set(), what="the drop")
            room.document.append_cell({"cell_type": "code", "source": "c = 3", "metadata": {}, "outputs": []})
            await room.wait_synced()
            await ada.wait_for(lambda: len(sources(ada.notebook)) == 4, what="the edit made while cut off")
            assert room.reconnections >= 1
            assert sources(ada.notebook) == ["a = 1", "b = 2", "from ada", "c = 3"]
            assert sources(room.document) == sources(ada.notebook)
            ids = [cell["id"] for cell in ada.notebook.ycells]
            assert len(set(ids)) == len(ids)

            # The agent's awareness state (written with origin "local", as the awareness pack does) reaches ada.
            room.awareness.set_local_state({"user": {"username": "agent", "name": "Agent"}})
            await ada.wait_for(
                lambda: any((s.get("user") or {}).get("username") == "agent" for s in ada.others().values()),
                what="the agent's awareness state",
            )
    finally:
        await room.stop()


def agent_seen_by(collaborator, client_id: int) -> dict | None:
    return collaborator.awareness.states.get(client_id)


async def test_awareness_view_keeps_the_y_protocols_rules(plain_server):
    """Others' states leave with a null state at once, or time out when not renewed; ours are renewed; a
    reconnection keeps the view and re-announces ours with a newer clock."""
    write_notebook(plain_server, "aware.ipynb", [])
    target = Target(plain_server.url, plain_server.token)
    room = RemoteRoom(target, "aware.ipynb", NOTEBOOK, outdated_after=5.0)
    await room.start()
    try:
        async with join_room(plain_server, "aware.ipynb") as ada, join_room(plain_server, "aware.ipynb") as bob:
            await ada.set_awareness({"user": {"username": "ada"}})
            await bob.set_awareness({"user": {"username": "bob"}})
            ids = {ada.awareness.client_id, bob.awareness.client_id}
            await ada.wait_for(lambda: room.clients == ids, what="ada and bob in the agent's view")

            room.awareness.set_local_state({"user": {"username": "agent"}})
            me = room.awareness.client_id
            await ada.wait_for(lambda: agent_seen_by(ada, me), what="the agent's state")
            clock = ada.awareness.meta[me]["clock"]

            await bob.set_awareness(None)  # bob leaves as JupyterLab does: a null state
            await ada.wait_for(lambda: room.clients == {ada.awareness.client_id}, what="bob gone at once")

            # Our state is renewed with a newer clock before others would drop it, though nothing changed.
            await ada.wait_for(lambda: ada.awareness.meta[me]["clock"] > clock, what="the agent's renewal")

            await ada.set_awareness({"user": {"username": "ada"}, "cursors": []})  # renewed just before the drop
            renewed = ada.awareness.meta[ada.awareness.client_id]["clock"]
            await ada.wait_for(lambda: room.awareness.meta[ada.awareness.client_id]["clock"] == renewed,
                               what="ada's renewal reaching the agent")
            room.drop_connection()  # the view survives a reconnection; ours is announced again
            await ada.wait_for(lambda: not room.synced.is_set(), what="the drop")
            clock = ada.awareness.meta[me]["clock"]
            await room.wait_synced()
            assert ada.awareness.client_id in room.clients
            await ada.wait_for(lambda: ada.awareness.meta[me]["clock"] > clock, what="the re-announcement")

            # Ada stops renewing (a closed laptop): she times out of the agent's view.
            await ada.wait_for(lambda: not room.clients, timeout=15, what="ada timed out")
            assert agent_seen_by(ada, me)  # while the agent itself never expires for her
    finally:
        await room.stop()
