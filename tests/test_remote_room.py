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
