"""In-place edits of a pycrdt ``Text`` that speak characters.

pycrdt indexes a ``Text`` in UTF-8 bytes; tools and people count characters
(code points). Every edit here converts at the boundary, and replaces only the
ranges that differ, so a person typing elsewhere in the same text keeps their
characters when the CRDT merges.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from pycrdt import Text

# Above this many differing characters, a single replace of the middle is cheaper than a diff.
_DIFF_LIMIT = 20_000


def byte_offset(s: str, char_index: int) -> int:
    """The UTF-8 byte offset of character ``char_index`` in ``s``."""
    return len(s[:char_index].encode("utf-8"))


def splice(text: Text, current: str, start: int, end: int, insert: str) -> None:
    """Replace characters ``start:end`` of ``text`` (whose value is ``current``) with ``insert``."""
    b_start = byte_offset(current, start)
    if end > start:
        b_end = b_start + len(current[start:end].encode("utf-8"))
        del text[b_start:b_end]
    if insert:
        text.insert(b_start, insert)


def replace_minimal(text: Text, new: str) -> bool:
    """Turn ``text`` into ``new`` by editing only what differs; False when nothing changed.

    Call inside a transaction. Ranges are applied from the end backwards so the
    earlier character offsets stay valid.
    """
    old = str(text)
    if old == new:
        return False
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    old_mid, new_mid = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    if len(old_mid) + len(new_mid) > _DIFF_LIMIT:
        ops = [("replace", 0, len(old_mid), 0, len(new_mid))]
    else:
        ops = [op for op in SequenceMatcher(None, old_mid, new_mid, autojunk=False).get_opcodes() if op[0] != "equal"]
    for _tag, i1, i2, j1, j2 in reversed(ops):
        splice(text, old, prefix + i1, prefix + i2, new_mid[j1:j2])
    return True
