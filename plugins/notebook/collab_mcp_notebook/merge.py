"""Three-way merge of a cell source: the agent's change rebased onto what people typed since.

The agent rewrites a cell from the source it last read (the base). If people
changed other parts of the cell meanwhile, the agent's change is applied on
top of theirs instead of undoing it; if both changed the same part, there is
no safe answer and the caller is told.
"""

from __future__ import annotations

from difflib import SequenceMatcher

Edit = tuple[int, int, str]  # replace characters start:end with the text


def _edits(old: str, new: str) -> list[Edit]:
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return [(i1, i2, new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _overlap(a: Edit, b: Edit) -> bool:
    """Whether two edits of the base touch the same or adjacent characters (conservative on purpose)."""
    (a1, a2, _), (b1, b2, _) = a, b
    return a1 <= b2 and b1 <= a2


def rebase(base: str, mine: str, theirs: str) -> list[Edit] | None:
    """Edits, in ``theirs`` coordinates, that carry the change base -> mine onto ``theirs``.

    None when the two changes touch the same characters (a real conflict).
    """
    my_edits, their_edits = _edits(base, mine), _edits(base, theirs)
    if any(_overlap(m, t) for m in my_edits for t in their_edits):
        return None
    rebased = []
    for start, end, text in my_edits:
        shift = sum(len(t_text) - (t_end - t_start) for t_start, t_end, t_text in their_edits if t_end <= start)
        rebased.append((start + shift, end + shift, text))
    return rebased


def apply(text: str, edits: list[Edit]) -> str:
    for start, end, insert in sorted(edits, reverse=True):
        text = text[:start] + insert + text[end:]
    return text
