"""Finding cells by id while people insert, move and delete cells (pure logic on a real YNotebook)."""

from __future__ import annotations

import pytest
from jupyter_ydoc import YNotebook

from collab_mcp_core import NotFound
from collab_mcp_notebook.cells import new_cell
from collab_mcp_notebook.live import _indexes, find_cell


def notebook(ids: list[str]) -> YNotebook:
    nb = YNotebook()
    nb.set({"cells": [new_cell("code", f"# {i}", i) for i in ids], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    return nb


def ids_at(nb: YNotebook, ids: list[str]) -> list[int]:
    return [find_cell(nb, cell_id)[0] for cell_id in ids]


def test_positions_follow_inserts_deletes_and_moves() -> None:
    nb = notebook(["a", "b", "c", "d"])
    assert ids_at(nb, ["a", "b", "c", "d"]) == [0, 1, 2, 3]
    nb.ycells.insert(0, nb.create_ycell(new_cell("code", "new", "z")))  # everything shifts
    assert ids_at(nb, ["z", "a", "b", "c", "d"]) == [0, 1, 2, 3, 4]
    del nb.ycells[2]  # "b" goes
    assert ids_at(nb, ["z", "a", "c", "d"]) == [0, 1, 2, 3]
    with pytest.raises(NotFound, match="No cell with id 'b'"):
        find_cell(nb, "b")
    moved = nb.ycells[3].to_py()  # "d" to the front, as move_notebook_cell does
    del nb.ycells[3]
    nb.ycells.insert(0, nb.create_ycell(moved))
    assert ids_at(nb, ["d", "z", "a", "c"]) == [0, 1, 2, 3]
    assert str(find_cell(nb, "c")[1]["source"]) == "# c"


def test_a_repeated_id_finds_the_first_cell() -> None:
    nb = notebook(["a", "x", "b", "x"])
    assert find_cell(nb, "x")[0] == 1


def test_the_index_follows_local_and_remote_changes_without_scanning() -> None:
    nb = notebook(["a", "b", "c"])
    find_cell(nb, "a")  # builds the index
    index = _indexes[nb]
    nb.ycells.insert(0, nb.create_ycell(new_cell("code", "new", "z")))
    del nb.ycells[2]  # "b"
    assert index.ids == ["z", "a", "c"]  # kept by the observer, not by a new scan

    person = YNotebook()  # a collaborator's copy, as over the websocket
    person.ydoc.apply_update(nb.ydoc.get_update())
    person.ycells.insert(1, person.create_ycell(new_cell("code", "typed", "p")))
    nb.ydoc.apply_update(person.ydoc.get_update(nb.ydoc.get_state()))
    assert index.ids == ["z", "p", "a", "c"]
    assert ids_at(nb, ["z", "p", "a", "c"]) == [0, 1, 2, 3]
