"""Cell views remembered per cell: every change anyone makes shows in the next read (pure logic on a real YNotebook)."""

from __future__ import annotations

from jupyter_ydoc import YNotebook
from pycrdt import Map
from pydantic_core import from_json

from collab_mcp_notebook.cells import new_cell
from collab_mcp_notebook.live import cell_index
from collab_mcp_notebook.outputs import OutputBudget
from collab_mcp_notebook.views import _NO_IMAGES, _view, cell_views


def notebook(n: int) -> YNotebook:
    nb = YNotebook()
    cells = [new_cell("code", f"x = {i}", f"c{i}") for i in range(n)]
    nb.set({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    return nb


def read(nb: YNotebook, start: int = 0, end: int | None = None) -> list[dict]:
    with nb.ydoc.transaction():
        views = cell_views(nb, start, len(nb.ycells) if end is None else end, outputs=True)
    return [v.model_dump() for v in views]


def fresh(nb: YNotebook) -> list[dict]:
    """The same views computed from the document now, remembering nothing: the oracle."""
    return [_view(from_json(str(c)), i, _NO_IMAGES).model_dump() for i, c in enumerate(nb.ycells)]


def remote(nb: YNotebook, change) -> None:  # noqa: ANN001 - a function of the collaborator's copy
    """Apply ``change`` to a collaborator's copy and send the update back, as over the websocket."""
    person = YNotebook()
    person.ydoc.apply_update(nb.ydoc.get_update())
    change(person)
    nb.ydoc.apply_update(person.ydoc.get_update(nb.ydoc.get_state()))


def test_reads_follow_every_kind_of_change() -> None:
    nb = notebook(6)
    assert read(nb) == fresh(nb)
    steps = [
        lambda: nb.ycells[2]["source"].insert(0, "# typed\n"),  # a keystroke inside a cell
        lambda: nb.ycells.insert(0, nb.create_ycell(new_cell("markdown", "# Title", "m"))),  # cells shift
        lambda: nb.ycells[3]["outputs"].append(Map({"output_type": "stream", "name": "stdout", "text": "out\n"})),
        lambda: nb.ycells[3].__setitem__("execution_count", 7),
        lambda: nb.ycells[3]["outputs"][0].__setitem__("text", "changed\n"),  # inside an output
        lambda: nb.ycells.__delitem__(1),
        lambda: remote(nb, lambda p: p.ycells.insert(2, p.create_ycell(new_cell("code", "theirs", "p")))),
        lambda: remote(nb, lambda p: p.ycells[4]["source"].insert(0, "their edit ")),
    ]
    for step in steps:
        step()
        assert read(nb) == fresh(nb)


def test_a_transaction_that_inserts_and_edits_lands_in_the_right_slots() -> None:
    nb = notebook(4)
    read(nb)
    with nb.ydoc.transaction():
        nb.ycells.insert(0, nb.create_ycell(new_cell("code", "first", "f")))
        nb.ycells[3]["source"].insert(0, "# edited after the shift\n")  # was cell 2
        del nb.ycells[1]
    assert read(nb) == fresh(nb)
    with nb.ydoc.transaction():  # as many cells as before, every one at a new place
        del nb.ycells[3]
        nb.ycells.insert(0, nb.create_ycell(new_cell("raw", "new", "n")))
    assert read(nb) == fresh(nb)


def test_unchanged_cells_are_not_read_again_and_fitting_leaves_them_whole() -> None:
    nb = notebook(3)
    nb.ycells[0]["outputs"].append(Map({"output_type": "stream", "name": "stdout", "text": "y" * 5000}))
    read(nb)
    memo = cell_index(nb).memo(3)
    kept = list(memo)
    nb.ycells[1]["source"].insert(0, "# edit\n")
    assert memo[1] is None and memo[0] is kept[0] and memo[2] is kept[2]  # only the edited cell was forgotten

    with nb.ydoc.transaction():
        views = cell_views(nb, 0, 3, outputs=True)
    budget = OutputBudget(chars=1000, image_bytes=0, images_left=0)
    budget.fit([v.outputs for v in views if v.outputs])
    assert "characters cut" in (views[0].outputs[0].note or "")
    assert read(nb)[0]["outputs"][0]["text"] == "y" * 5000  # the remembered view was not cut
    assert [v["index"] for v in read(nb, 1, 3)] == [1, 2]
