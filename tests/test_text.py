"""collab_mcp_core.text against real pycrdt documents (pure logic, no server)."""

from __future__ import annotations

import pycrdt
import pytest
from collab_mcp_core.text import replace_text, splice_text


def pair(initial: str) -> tuple[pycrdt.Text, pycrdt.Text, pycrdt.Doc, pycrdt.Doc]:
    a, b = pycrdt.Doc(), pycrdt.Doc()
    ta, tb = a.get("t", type=pycrdt.Text), b.get("t", type=pycrdt.Text)
    ta += initial
    b.apply_update(a.get_update())
    return ta, tb, a, b


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("héllo wörld", "héllo 😀 wörld!"),
        ("😀😀😀", "😀x😀"),
        ("abc", ""),
        ("", "ñ😀"),
        ("a = 1\nb = 2\nc = 3\n", "a = 10\nc = 3\nd = 'é'\n"),
    ],
)
def test_replace_text_reaches_the_new_text(old: str, new: str) -> None:
    ta, _tb, _a, _b = pair(old)
    replace_text(ta, new)
    assert str(ta) == new


def test_concurrent_edit_elsewhere_in_the_text_survives() -> None:
    ta, tb, a, b = pair("x = 1\n# é😀 comment\ny = 2\n")
    before = b.get_state()
    with a.transaction(origin="agent"):
        replace_text(ta, "x = 100\n# é😀 comment\ny = 2\n")
    tb += "z = 'ü'\n"  # a person types at the end at the same time
    update_a = a.get_update(b.get_state())
    update_b = b.get_update(before)
    a.apply_update(update_b)
    b.apply_update(update_a)
    assert str(ta) == str(tb) == "x = 100\n# é😀 comment\ny = 2\nz = 'ü'\n"


def test_splice_counts_characters() -> None:
    ta, _tb, _a, _b = pair("😀é-abc")
    splice_text(ta, 3, 3, "XYZ")
    assert str(ta) == "😀é-XYZ"
