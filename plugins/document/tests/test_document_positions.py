"""Pure logic: code points to UTF-8 byte offsets, minimal diffs applied to a pycrdt Text."""

from __future__ import annotations

import random

import pycrdt
import pytest

from collab_mcp_core import ToolError
from collab_mcp_core.text import Splice, apply_splices, byte_offset, minimal_splices
from collab_mcp_document.positions import check_range

ALPHABET = "ab \néü日本🎉👩‍💻x"


def text_with(content: str) -> pycrdt.Text:
    doc = pycrdt.Doc()
    text = doc.get("source", type=pycrdt.Text)
    text += content
    return text


def test_byte_offsets_count_code_points() -> None:
    assert byte_offset("héllo", 2) == 3
    assert byte_offset("🎉a", 1) == 4


@pytest.mark.parametrize("seed", range(40))
def test_minimal_splices_turn_old_into_new(seed: int) -> None:
    rng = random.Random(seed)
    old = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))
    new = list(old)
    for _ in range(rng.randint(1, 5)):
        i = rng.randint(0, len(new))
        if rng.random() < 0.5 and i < len(new):
            del new[i : i + rng.randint(1, 4)]
        else:
            new[i:i] = rng.choice(ALPHABET) * rng.randint(1, 3)
    new_text = "".join(new)
    text = text_with(old)
    with text.doc.transaction():
        apply_splices(text, old, minimal_splices(old, new_text))
    assert str(text) == new_text


def test_minimal_splices_touch_only_the_changed_characters() -> None:
    old = "line one\nline twö 🎉\nline three\n"
    new = "line one\nline twö 🎉!\nline three\n"
    assert minimal_splices(old, new) == [Splice(len("line one\nline twö 🎉"), 0, "!")]


def test_check_range() -> None:
    assert check_range(5, -1) == 5
    with pytest.raises(ToolError, match="out of range"):
        check_range(5, 6)
    with pytest.raises(ToolError, match="past the end"):
        check_range(5, 3, 3)


def test_rebase_moves_our_edits_over_theirs() -> None:
    from collab_mcp_core.text import apply_to_string
    from collab_mcp_core import rebase

    base = "héllo wörld 🎉 end"
    theirs_text = "Dear " + base.replace("end", "END!")
    ours_text = base.replace("wörld", "world 🌍")
    theirs = minimal_splices(base, theirs_text)
    ours = minimal_splices(base, ours_text)
    assert apply_to_string(theirs_text, rebase(ours, theirs)) == "Dear héllo world 🌍 🎉 END!"


def test_rebase_same_point_inserts_keep_both_and_overlaps_conflict() -> None:
    from collab_mcp_core import Conflict
    from collab_mcp_core.text import apply_to_string
    from collab_mcp_core import rebase

    base = "abc"
    assert apply_to_string("abXc", rebase([Splice(2, 0, "Y")], [Splice(2, 0, "X")])) == "abXYc"
    with pytest.raises(Conflict, match="overlaps"):
        rebase([Splice(1, 1, "Z")], minimal_splices(base, "aQc"))
