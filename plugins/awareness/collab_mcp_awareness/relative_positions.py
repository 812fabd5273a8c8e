"""Yjs relative positions (JupyterLab's cursors) <-> character offsets in a pycrdt Text.

JupyterLab publishes each cursor end as a Yjs relative position: the id
(client, clock) of the character right of the cursor (``assoc >= 0``), the id
of the character left of it (``assoc < 0``), or the text itself (``type`` /
``tname``, no ``item``) at its start or end. Clocks count UTF-16 code units.

pycrdt 0.14's ``StickyIndex`` cannot be used directly: it counts the offset
inside one block of text in UTF-8 bytes (so positions after an accented
letter or an emoji in the same block get the wrong clock, or a clock that
does not exist), and it panics (a pyo3 ``PanicException``, a BaseException)
on malformed input and on ``Assoc.AFTER`` at the end of a text.

So the ids are found another way. The document's state is copied into a
scratch ``Doc`` (the live one is never touched), and a separator is inserted
there before every character. That splits every block so that each original
character starts its own block, where the byte/UTF-16 confusion cannot
arise: ``sticky_index`` at the start of a block returns its exact id. This
gives the id of every character, and conversion in both directions is then a
table look-up done here, following Yjs's own rules
(``createRelativePositionFromTypeIndex`` and
``createAbsolutePositionFromRelativePosition``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from collab_mcp_core import state_vector
from pycrdt import Assoc, Doc, StickyIndex, Text

# Inserted in the scratch copy only: one byte in UTF-8, one unit in UTF-16.
_SEPARATOR = "|"

class PositionError(Exception):
    """A relative position could not be read or built (malformed, or pycrdt refused it)."""


@dataclass
class TextIds:
    """The Yjs ids of the characters of one text, as it is now (all, or those a cursor needs)."""

    text: str
    ids: dict[int, tuple[int, int, int]]  # character index -> client, clock, length in UTF-16 units
    type_ref: dict[str, Any]  # how a relative position names the text itself ({"type": id} or {"tname": name})
    _by_id: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for index, (client, clock, units) in self.ids.items():
            for unit in range(units):
                self._by_id[(client, clock + unit)] = (index, unit)

    # -- character offset -> relative position --------------------------------------------

    def relative_position(self, offset: int) -> dict[str, Any]:
        """The JSON relative position of the cursor before character ``offset`` (Yjs's shape)."""
        length = len(self.text)
        if not 0 <= offset <= length:
            raise PositionError(f"offset {offset} is outside the text (0..{length})")
        if offset < length:
            client, clock, _ = self._id(offset)
            return {"type": None, "tname": None, "item": {"client": client, "clock": clock}, "assoc": 0}
        if length:
            # At the end: stick to the last UTF-16 unit of the last character, on its right
            # (assoc -1), which Yjs resolves to "after it" without needing the text's own id.
            client, clock, units = self._id(length - 1)
            return {"type": None, "tname": None, "item": {"client": client, "clock": clock + units - 1}, "assoc": -1}
        return {"type": None, "tname": None, **self.type_ref, "item": None, "assoc": 0}

    def _id(self, index: int) -> tuple[int, int, int]:
        try:
            return self.ids[index]
        except KeyError:
            raise PositionError(f"the id of character {index} was not computed") from None

    # -- relative position -> character offset --------------------------------------------

    def offset(self, position: Any) -> int | None:
        """The character offset a JSON relative position points to in this text, or None if elsewhere."""
        if not isinstance(position, dict):
            raise PositionError(f"a relative position is a JSON object, not {type(position).__name__}")
        assoc = position.get("assoc", 0)
        if not isinstance(assoc, int):
            raise PositionError("a relative position's assoc must be an integer")
        item = position.get("item")
        if item is not None:
            client, clock = _id(item)
            found = self._by_id.get((client, clock))
            if found is None:
                return None  # another text, or a deleted character
            index, unit = found
            units = self.ids[index][2]  # a found id's character is always in the table
            after = unit + (1 if assoc < 0 else 0)
            # Inside a surrogate pair (half an emoji) rounds down to the character's start.
            return index + 1 if after >= units else index
        if self._names_this_text(position):
            return len(self.text) if assoc >= 0 else 0
        return None

    def _names_this_text(self, position: dict[str, Any]) -> bool:
        if "type" in self.type_ref:
            kind = position.get("type")
            return kind is not None and _id(kind) == _id(self.type_ref["type"])
        return position.get("tname") == self.type_ref.get("tname") and position.get("type") is None


def _id(value: Any) -> tuple[int, int]:
    if not isinstance(value, dict):
        raise PositionError("an id in a relative position must be an object with client and clock")
    client, clock = value.get("client"), value.get("clock")
    if not isinstance(client, int) or not isinstance(clock, int) or client < 0 or clock < 0:
        raise PositionError("an id in a relative position needs non-negative integer client and clock")
    return client, clock


def end_position(text: Text) -> dict[str, Any] | None:
    """The relative position of the end of a live ``text``, asked of pycrdt directly (no copy), or None.

    Only where pycrdt is right: a non-empty ASCII text, where its byte offsets inside a block
    equal Yjs's UTF-16 units. Otherwise use :func:`text_ids` on a :func:`scratch_copy`.
    """
    content = str(text)
    if not content or not content.isascii():
        return None
    return {"type": None, "tname": None, **text.sticky_index(len(content), Assoc.BEFORE).to_json()}


def scratch_copy(doc: Doc) -> Doc:
    """A detached copy of ``doc`` (same ids) to compute positions in; the live document is never touched."""
    scratch = Doc()
    scratch.apply_update(doc.get_update())
    return scratch


def text_ids(text: Text, offsets: Iterable[int] | None = None) -> TextIds:
    """The ids of the characters of ``text``, which must live in a :func:`scratch_copy`
    (separators are inserted into it): all of them (to read positions), or only those
    needed for the relative positions of some character ``offsets`` (to write them).

    Each separator splits a block, so its cost is per character probed: a cursor's two
    ends cost two probes, a full table one per character.
    """
    content = str(text)
    if offsets is None:
        wanted = range(len(content))
    else:  # the end of the text is written with the last character's id
        wanted = sorted({min(o, len(content) - 1) for o in offsets if 0 <= o <= len(content)} if content else ())
    try:
        type_ref = _type_ref(text)
        ids = _character_ids(text, content, wanted)
    except BaseException as err:  # pycrdt panics are BaseExceptions
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        raise PositionError(f"pycrdt could not compute positions ({type(err).__name__}: {err})") from None
    return TextIds(content, ids, type_ref)


def deleted_offset(text: Text, content: str, position: dict[str, Any]) -> int | None:
    """Where a position on a deleted character now is, as Yjs puts it (where the character was).

    Only for a document with a single text (a text file): pycrdt's ``get_index``
    is right for deleted characters (no offset inside a block is involved) but
    says nothing about which text they belonged to. Its answer is in UTF-8 bytes.
    """
    item = position.get("item")
    if not isinstance(item, dict) or item.get("clock", -1) >= state_vector(text.doc).get(item.get("client"), 0):
        # A collaborator's cursor can arrive before the edit that made its character (awareness and
        # document updates race): pycrdt panics on an item it has not received, so don't ask it.
        return None
    try:
        index = StickyIndex.from_json({k: v for k, v in position.items() if v is not None}, text).get_index()
    except BaseException as err:  # malformed or unknown ids make pycrdt panic
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        return None
    encoded = content.encode()
    if not 0 <= index <= len(encoded):
        return None
    return len(encoded[:index].decode(errors="ignore"))


def _type_ref(text: Text) -> dict[str, Any]:
    # At offset 0 with Assoc.BEFORE, pycrdt (like Yjs) names the text itself: a root text by
    # its name, a nested one (a notebook cell's source) by the id of the item holding it.
    ref = text.sticky_index(0, Assoc.BEFORE).to_json()
    if ref.get("type") is not None:
        return {"type": {"client": ref["type"]["client"], "clock": ref["type"]["clock"]}}
    return {"tname": ref.get("tname")}


def _character_ids(text: Text, content: str, wanted: Iterable[int]) -> dict[int, tuple[int, int, int]]:
    wanted = list(wanted)  # ascending character indexes
    starts = []  # UTF-8 byte offset of each character, as pycrdt indexes a Text
    byte = 0
    for char in content:
        starts.append(byte)
        byte += len(char.encode())
    with text.doc.transaction():
        for index in reversed(wanted):
            text.insert(starts[index], _SEPARATOR)
    ids = {}
    for count, index in enumerate(wanted, start=1):
        # The character now starts its own block, right after its separator (and the
        # ``count`` separators inserted up to here).
        position = text.sticky_index(starts[index] + count * len(_SEPARATOR), Assoc.AFTER).to_json()
        item = position["item"]
        ids[index] = (item["client"], item["clock"], len(content[index].encode("utf-16-le")) // 2)
    return ids
