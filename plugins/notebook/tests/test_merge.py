"""Three-way merge of cell sources, as update_notebook_cell does it (pure logic)."""

from __future__ import annotations

import pytest

from collab_mcp_core import Conflict, apply_to_string, character_splices, rebase


def merge(base: str, mine: str, theirs: str) -> str:
    edits = rebase(character_splices(base, mine), character_splices(base, theirs), touching_conflicts=True)
    return apply_to_string(theirs, edits)


@pytest.mark.parametrize(
    ("base", "mine", "theirs", "merged"),
    [
        ("a = 1\nb = 2\n", "a = 10\nb = 2\n", "a = 1\nb = 2\nc = 3\n", "a = 10\nb = 2\nc = 3\n"),
        ("x é😀 y", "x é😀 y!", "# hi\nx é😀 y", "# hi\nx é😀 y!"),
        ("one two three", "one 2 three", "ONE two three", "ONE 2 three"),
        ("abc", "abc", "abXc", "abXc"),
    ],
)
def test_non_overlapping_changes_both_survive(base: str, mine: str, theirs: str, merged: str) -> None:
    assert merge(base, mine, theirs) == merged


@pytest.mark.parametrize(
    ("base", "mine", "theirs"),
    [("a = 1", "a = 10", "a = 5"), ("ab", "aXb", "aYb"), ("hello world", "hello", "hello brave world")],
)
def test_overlapping_or_touching_changes_are_a_conflict(base: str, mine: str, theirs: str) -> None:
    with pytest.raises(Conflict, match="overlaps"):
        merge(base, mine, theirs)
