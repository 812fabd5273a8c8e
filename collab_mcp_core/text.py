"""Editing a pycrdt ``Text`` in characters, touching only what changes.

Tools and people count characters (Unicode code points, ``len(str)``);
pycrdt indexes a ``Text`` in UTF-8 bytes, and an index inside a multi-byte
character silently lands elsewhere. Every pack converts here and nowhere else.
Edits are expressed as :class:`Splice` values and applied in place, so a
person typing elsewhere in the same text keeps their characters when the CRDT
merges (a whole replacement would clobber them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from .errors import Conflict

# A character diff (difflib) is quadratic or worse on text with few distinct characters:
# only for short blocks, such as one edited line.
CHARACTER_DIFF_LIMIT = 400
LINE_DIFF_LIMIT = 2000


@dataclass(frozen=True)
class Splice:
    """Replace ``removed`` characters at code-point ``position`` with ``inserted``."""

    position: int
    removed: int
    inserted: str


def byte_offset(text: str, position: int) -> int:
    """The UTF-8 byte offset of code point ``position`` in ``text``."""
    return len(text[:position].encode("utf-8"))


def apply_splices(ytext: object, old: str, splices: Iterable[Splice]) -> None:
    """Apply code-point splices, computed against ``old``, to a pycrdt Text holding ``old``.

    Byte offsets are computed in one ascending pass, then applied back to front so
    that earlier offsets stay valid. Call inside a transaction.
    """
    ordered = sorted(splices, key=lambda s: s.position)
    offsets: list[tuple[int, int, str]] = []
    byte_pos, char_pos = 0, 0
    for splice in ordered:
        byte_pos += len(old[char_pos : splice.position].encode("utf-8"))
        removed_bytes = len(old[splice.position : splice.position + splice.removed].encode("utf-8"))
        offsets.append((byte_pos, removed_bytes, splice.inserted))
        char_pos = splice.position
    for start, removed_bytes, inserted in reversed(offsets):
        if removed_bytes:
            del ytext[start : start + removed_bytes]  # type: ignore[attr-defined]
        if inserted:
            ytext.insert(start, inserted)  # type: ignore[attr-defined]


def replace_text(ytext: object, new: str) -> bool:
    """Turn ``ytext`` into ``new`` with minimal in-place splices; False if it already was.

    Call inside a transaction.
    """
    old = str(ytext)
    splices = minimal_splices(old, new)
    apply_splices(ytext, old, splices)
    return bool(splices)


def splice_text(ytext: object, position: int, removed: int, inserted: str) -> None:
    """Replace ``removed`` characters at ``position`` of ``ytext`` with ``inserted``."""
    apply_splices(ytext, str(ytext), [Splice(position, removed, inserted)])


def minimal_splices(old: str, new: str) -> list[Splice]:
    """Small splices turning ``old`` into ``new``: a line diff, refined to characters.

    Untouched text stays untouched in the CRDT, so a collaborator's concurrent
    typing elsewhere in the document survives a whole-document replacement.
    Common leading and trailing lines are set aside first, and the line diff
    (difflib, quadratic on repetitive text) only runs on a bounded middle.
    """
    if old == new:
        return []
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    head = _common_prefix(old_lines, new_lines)
    tail = _common_suffix(old_lines[head:], new_lines[head:])
    old_mid, new_mid = old_lines[head : len(old_lines) - tail], new_lines[head : len(new_lines) - tail]
    offset = sum(len(line) for line in old_lines[:head])
    old_starts = _starts(old_mid, offset)
    if len(old_mid) > LINE_DIFF_LIMIT or len(new_mid) > LINE_DIFF_LIMIT:
        opcodes = [("replace", 0, len(old_mid), 0, len(new_mid))]
    else:
        opcodes = SequenceMatcher(a=old_mid, b=new_mid, autojunk=False).get_opcodes()
    splices: list[Splice] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            # As many lines on both sides: each line changed in place (linear, even for big blocks).
            for k in range(i2 - i1):
                splices.extend(_character_splices(old_mid[i1 + k], new_mid[j1 + k], old_starts[i1 + k]))
        else:
            splices.extend(_character_splices("".join(old_mid[i1:i2]), "".join(new_mid[j1:j2]), old_starts[i1]))
    return splices


def _character_splices(a: str, b: str, offset: int) -> list[Splice]:
    """Splices turning block ``a`` (at ``offset``) into ``b``: a character diff for short
    blocks, otherwise one splice trimmed to the changed middle."""
    prefix = _common_prefix(a, b)
    suffix = _common_suffix(a[prefix:], b[prefix:])
    a, b, offset = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix], offset + prefix
    if not a or not b or len(a) > CHARACTER_DIFF_LIMIT or len(b) > CHARACTER_DIFF_LIMIT:
        return [Splice(offset, len(a), b)]
    return [
        Splice(offset + i1, i2 - i1, b[j1:j2])
        for tag, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
        if tag != "equal"
    ]


def change_summary(old: str, new: str) -> tuple[int, int]:
    """(characters added, characters removed) between two texts, by trimming the common ends."""
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old[prefix:], new[prefix:])
    return len(new) - prefix - suffix, len(old) - prefix - suffix


def _starts(lines: list[str], offset: int = 0) -> list[int]:
    starts = [offset]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: Sequence[str], b: Sequence[str]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


def apply_to_string(text: str, splices: Iterable[Splice]) -> str:
    """``text`` with code-point splices (computed against it) applied."""
    for splice in sorted(splices, key=lambda s: s.position, reverse=True):
        text = text[: splice.position] + splice.inserted + text[splice.position + splice.removed :]
    return text


def character_splices(old: str, new: str) -> list[Splice]:
    """Splices turning ``old`` into ``new`` found by a character diff (exact, for short texts such as a cell)."""
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return [Splice(i1, i2 - i1, new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def rebase(ours: Iterable[Splice], theirs: Sequence[Splice], *, touching_conflicts: bool = False) -> list[Splice]:
    """Move our splices (against a base text) onto a text others changed with ``theirs`` (same base).

    A splice of theirs wholly before one of ours shifts it; one wholly after leaves it; when
    both insert at one point, ours goes after theirs. Overlapping changes cannot both be kept
    as meant: that is a Conflict, raised before anything changes. ``touching_conflicts``
    also refuses changes that only touch (adjacent or at one point), for texts such as
    code where those rarely merge as meant.
    """
    rebased = []
    for mine in ours:
        start, end = mine.position, mine.position + mine.removed
        shift = 0
        for other in theirs:
            other_end = other.position + other.removed
            touching = start <= other_end and other.position <= end
            if touching_conflicts and touching:
                _conflict(start, end, other.position, other_end)
            if other_end <= start and (other.position < start or other.removed == 0):
                shift += len(other.inserted) - other.removed
            elif not (other.position >= end and (other.position > start or mine.removed == 0 or other.removed == 0)):
                _conflict(start, end, other.position, other_end)
        rebased.append(Splice(start + shift, mine.removed, mine.inserted))
    return rebased


def _conflict(start: int, end: int, other_start: int, other_end: int) -> None:
    raise Conflict(
        f"Your edit of characters {start}..{end} (as you read the text) overlaps changes someone else made "
        f"since, at {other_start}..{other_end}. Read it again and redo your edit."
    )
