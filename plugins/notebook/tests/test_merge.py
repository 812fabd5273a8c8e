"""Three-way merge of cell sources (pure logic)."""

from __future__ import annotations

import pytest

from collab_mcp_notebook.merge import apply, rebase


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
    edits = rebase(base, mine, theirs)
    assert edits is not None and apply(theirs, edits) == merged


@pytest.mark.parametrize(
    ("base", "mine", "theirs"),
    [("a = 1", "a = 10", "a = 5"), ("ab", "aXb", "aYb"), ("hello world", "hello", "hello brave world")],
)
def test_overlapping_changes_are_a_conflict(base: str, mine: str, theirs: str) -> None:
    assert rebase(base, mine, theirs) is None
