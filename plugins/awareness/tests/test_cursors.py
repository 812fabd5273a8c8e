"""Cursors end to end, with accents and emoji before the cursor in the same text block and in an earlier one.

The collaborators' relative positions are written the way Yjs (JupyterLab) writes them, with ids
derived by hand from Yjs's rules: a client's characters get consecutive clocks counted in UTF-16
units, from 0 for a client that never wrote before. The only ids asked of pycrdt are those of a
block's first character, where its byte/UTF-16 confusion cannot arise.
"""

from __future__ import annotations

import asyncio
import time

import nbformat
from pycrdt import Array, Assoc, Decoder, Text

from collab_mcp_core.testing import call, call_error, connect, join_room

ADA = {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace", "initials": "AL", "color": "#f00"}
GRACE = {"username": "grace", "name": "Grace", "display_name": "Grace Hopper", "initials": "GH", "color": "#0f0"}


def item(client: int, clock: int, assoc: int = 0) -> dict:
    return {"type": None, "tname": None, "item": {"client": client, "clock": clock}, "assoc": assoc}


def first_id(text: Text) -> tuple[int, int]:
    """The id of a text's first character (the start of a block: pycrdt is right there)."""
    found = text.sticky_index(0, Assoc.AFTER).to_json()["item"]
    return found["client"], found["clock"]


def agent_cursor(collab) -> dict | None:
    for state in collab.others().values():
        if "agent" in state and state.get("cursors"):
            return state["cursors"][0]
    return None


async def eventually(check, timeout: float = 5.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.05)


def state_clients(doc) -> set[int]:
    decoder = Decoder(doc.get_state())
    return {decoder.read_var_uint() for _ in range(decoder.read_var_uint()) if decoder.read_var_uint() is not None}


async def test_text_file_cursors_both_ways(collab_server):
    (collab_server.root / "notes.txt").write_text("première ligne 😀\n")
    async with connect(collab_server) as mcp, join_room(collab_server, "notes.txt", kind="file") as ada, \
            join_room(collab_server, "notes.txt", kind="file") as grace:
        text = ada.text
        server_block = first_id(text)  # 'p', first of the block the server loaded from disk
        mine = "ça marche 🎉 là-bas"
        text.insert(len(str(text).encode()), mine)  # ada's first write: her clocks start at 0
        me = ada.doc.client_id
        # Ada selects from the start of her line to just before 'là' (after the emoji, same block).
        await ada.set_awareness({"user": ADA, "cursors": [
            {"anchor": item(me, 0), "head": item(me, 13), "primary": True, "empty": False}]})
        # Grace's cursor is at the very end: Yjs names the text itself (assoc 0, no item).
        await grace.set_awareness({"user": GRACE, "cursors": [
            {"anchor": {"type": None, "tname": "source", "item": None, "assoc": 0},
             "head": {"type": None, "tname": "source", "item": None, "assoc": 0}, "primary": True, "empty": True}]})

        async def ada_resolved():
            found = await call(mcp, "get_user_cursors", path="notes.txt")
            by_user = {c["user_id"]: c for c in found["cursors"]}
            return by_user if by_user.get("ada", {}).get("resolved") and "grace" in by_user else None

        by_user = await eventually(ada_resolved, what="ada's edit and cursor reaching the server")
        assert (by_user["ada"]["line"], by_user["ada"]["column"]) == (1, 12)
        assert by_user["ada"]["selection"]["anchor"] == {"line": 1, "column": 0, "cell_id": None}
        assert by_user["ada"]["cell_id"] is None and by_user["ada"]["is_agent"] is False
        assert (by_user["grace"]["line"], by_user["grace"]["column"]) == (1, len(mine))
        assert by_user["grace"]["selection"] is None

        # The agent selects from after the emoji of line 0 (the server's block) to before 'là'.
        published = await call(mcp, "update_cursor_position", path="notes.txt",
                               cursor={"line": 1, "column": 12}, selection={"line": 0, "column": 16})
        assert published["selection"]["anchor"] == {"line": 0, "column": 16, "cell_id": None}
        started = time.monotonic()
        cursor = await ada.wait_for(lambda: agent_cursor(ada), timeout=1.0, what="the agent's cursor")
        assert time.monotonic() - started < 1.0
        assert cursor["head"]["item"] == {"client": me, "clock": 13}
        assert cursor["anchor"]["item"] == {"client": server_block[0], "clock": server_block[1] + 17}
        assert cursor["empty"] is False and cursor["primary"] is True

        found = await call(mcp, "get_user_cursors", path="notes.txt")
        agent = next(c for c in found["cursors"] if c["is_agent"])
        assert (agent["line"], agent["column"]) == (1, 12) and agent["client_id"] == published["client_id"]
        assert agent["selection"]["anchor"] == {"line": 0, "column": 16, "cell_id": None}

        # At the very end, and at the start of an empty line.
        await call(mcp, "update_cursor_position", path="notes.txt", cursor={"line": 1, "column": len(mine)})
        cursor = await ada.wait_for(lambda: (c := agent_cursor(ada)) and c["empty"] and c, timeout=1.0, what="the move")
        assert cursor["head"]["item"] == {"client": me, "clock": 18} and cursor["head"]["assoc"] == -1  # 19 units
        found = await call(mcp, "get_user_cursors", path="notes.txt")
        agent = next(c for c in found["cursors"] if c["is_agent"])
        assert (agent["line"], agent["column"]) == (1, len(mine))

        # Grace deletes the text under ada's cursor: it now sits where that text was.
        del grace.text[len("première ligne 😀\nça marche 🎉 ".encode()):len("première ligne 😀\nça marche 🎉 là".encode())]

        async def moved():
            found = await call(mcp, "get_user_cursors", path="notes.txt")
            ada_cursor = next(c for c in found["cursors"] if c["user_id"] == "ada")
            return ada_cursor if "là" not in str(ada.text) else None

        ada_cursor = await eventually(moved, what="grace's deletion")
        assert ada_cursor["resolved"] and (ada_cursor["line"], ada_cursor["column"]) == (1, 12)


async def test_notebook_cursors_carry_the_cell_id(collab_server):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("# é\nprint('héllo 😀')"), nbformat.v4.new_code_cell("x = 1")])
    (collab_server.root / "cursors.ipynb").write_text(nbformat.writes(nb))
    async with connect(collab_server) as mcp, join_room(collab_server, "cursors.ipynb") as ada, \
            join_room(collab_server, "cursors.ipynb") as grace:
        cells = ada.doc.get("cells", type=Array)
        first, second = cells[0], cells[1]
        first_id_str, second_id_str = str(first["id"]), str(second["id"])
        source = second["source"]
        source.insert(len(str(source).encode()), " # café 😀 ok")  # ada's first write: clocks from 0
        me = ada.doc.client_id
        await ada.set_awareness({"user": ADA, "cursors": [
            {"anchor": item(me, 11), "head": item(me, 11), "primary": True, "empty": True}]})  # before 'ok'
        # Grace's cursor at the end of the first cell: Yjs names the cell's source text itself.
        cell_text = grace.doc.get("cells", type=Array)[0]["source"]
        type_id = cell_text.sticky_index(0, Assoc.BEFORE).to_json()["type"]
        end = {"type": type_id, "tname": None, "item": None, "assoc": 0}
        await grace.set_awareness({"user": GRACE, "cursors": [{"anchor": end, "head": end, "empty": True}]})

        async def both():
            found = await call(mcp, "get_user_cursors", path="cursors.ipynb")
            by_user = {c["user_id"]: c for c in found["cursors"]}
            ready = by_user.get("ada", {}).get("resolved") and by_user.get("grace", {}).get("resolved")
            return by_user if ready else None

        by_user = await eventually(both, what="both cursors resolving")
        assert (by_user["ada"]["cell_id"], by_user["ada"]["line"], by_user["ada"]["column"]) == (second_id_str, 0, 15)
        assert (by_user["grace"]["cell_id"], by_user["grace"]["line"], by_user["grace"]["column"]) == (first_id_str, 1, 16)

        block = first_id(first["source"])  # the first cell's text as the server loaded it
        await call(mcp, "update_cursor_position", path="cursors.ipynb", cell_id=first_id_str,
                   cursor={"line": 1, "column": 14})  # after the emoji, before "')"
        cursor = await ada.wait_for(lambda: agent_cursor(ada), timeout=1.0, what="the agent's cursor")
        assert cursor["head"]["item"] == {"client": block[0], "clock": block[1] + len("# é\nprint('héllo ") + 2}
        await call(mcp, "update_cursor_position", path="cursors.ipynb", cell_id=second_id_str,
                   cursor={"line": 0, "column": 15})
        cursor = await ada.wait_for(
            lambda: (c := agent_cursor(ada)) and c["head"]["item"] == {"client": me, "clock": 11} and c,
            timeout=1.0, what="the agent's cursor before 'ok'",
        )
        found = await call(mcp, "get_user_cursors", path="cursors.ipynb")
        agent = next(c for c in found["cursors"] if c["is_agent"])
        assert (agent["cell_id"], agent["line"], agent["column"]) == (second_id_str, 0, 15)


async def test_bad_cursor_input_is_a_clear_error_and_changes_nothing(collab_server):
    (collab_server.root / "bad.txt").write_text("un\ndeux 😀\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 'é'")])
    (collab_server.root / "bad.ipynb").write_text(nbformat.writes(nb))
    (collab_server.root / "closed.txt").write_text("nobody has me open")
    async with connect(collab_server) as mcp, join_room(collab_server, "bad.txt", kind="file") as ada, \
            join_room(collab_server, "bad.ipynb") as grace:
        await ada.set_awareness({"user": ADA})
        await grace.set_awareness({"user": GRACE})
        cell_id = str(grace.doc.get("cells", type=Array)[0]["id"])

        async def error(**args):
            return await call_error(mcp, "update_cursor_position", **args)

        assert "Line 3 is out of range" in await error(path="bad.txt", cursor={"line": 3, "column": 0})
        message = await error(path="bad.txt", cursor={"line": 1, "column": 7})
        assert "Column 7 is out of range on line 1" in message and "0 to 6" in message
        assert "column" in await error(path="bad.txt", cursor={"line": 0, "column": -1})
        message = await error(path="bad.txt", cursor={"line": 0, "column": 0}, selection={"line": 9, "column": 0})
        assert "Line 9" in message
        assert "no cells" in await error(path="bad.txt", cursor={"line": 0, "column": 0}, cell_id=cell_id)
        message = await error(path="bad.ipynb", cursor={"line": 0, "column": 0})
        assert "give the cell_id" in message and cell_id in message
        message = await error(path="bad.ipynb", cursor={"line": 0, "column": 0}, cell_id="nope")
        assert "No cell 'nope'" in message and cell_id in message
        assert "Column 8" in await error(path="bad.ipynb", cursor={"line": 0, "column": 8}, cell_id=cell_id)
        assert "not open" in await error(path="closed.txt", cursor={"line": 0, "column": 0})
        assert "not open" in await call_error(mcp, "get_user_cursors", path="closed.txt")
        assert "No document" in await call_error(mcp, "get_user_cursors", path="nowhere.txt")

        await asyncio.sleep(0.2)
        assert not [s for s in ada.others().values() if "agent" in s]  # nothing was published
        assert not [s for s in grace.others().values() if "agent" in s]
        sessions = await call(mcp, "get_active_sessions")
        assert not any(s["joined"] for s in sessions["sessions"])  # and the agent joined nothing

        # The last column of a line is valid (after the emoji), and the agent then joins.
        await call(mcp, "update_cursor_position", path="bad.txt", cursor={"line": 1, "column": 6})
        assert (await call(mcp, "get_active_sessions", path="bad.txt"))["sessions"][0]["joined"]


async def test_the_server_logged_no_error(collab_server):
    assert collab_server.tracebacks() == []
