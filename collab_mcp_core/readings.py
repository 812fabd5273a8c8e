"""What one caller last read of each text, so the edits it computes from it mean what it meant.

An agent computes positions and rewrites from the text it read (a cell's source, a
text document); people may have typed since. Packs remember the text the caller
last read or wrote, then rebase the caller's edit over what changed since
(:func:`collab_mcp_core.text.rebase`). One :class:`Readings` per caller lives in its
per-caller state (``ctx.readings``), so it goes when the caller's session does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

MAX_ENTRIES = 5_000  # per caller: a 1,000-cell notebook read whole fits several times
MAX_CHARS = 2_000_000


class Readings:
    """Texts by key (e.g. ``("cell", path, cell_id)``), least recently used dropped first."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self._texts: OrderedDict[Hashable, str] = OrderedDict()
        self._chars = 0
        self.max_entries, self.max_chars = max_entries, max_chars

    def remember(self, key: Hashable, text: str) -> None:
        """Record ``text`` as what the caller now knows under ``key`` (it read it, or wrote it)."""
        texts = self._texts
        previous = texts.pop(key, None)
        if previous is not None:
            self._chars -= len(previous)
        if len(text) > self.max_chars:
            return  # too large to keep: the next edit is computed against the live text
        texts[key] = text
        self._chars += len(text)
        if len(texts) > self.max_entries or self._chars > self.max_chars:
            while len(texts) > self.max_entries or self._chars > self.max_chars:
                _key, dropped = texts.popitem(last=False)
                self._chars -= len(dropped)

    def last_seen(self, key: Hashable) -> str | None:
        """What the caller last read or wrote under ``key``, or None."""
        text = self._texts.get(key)
        if text is not None:
            self._texts.move_to_end(key)
        return text

    def forget(self, key: Hashable) -> None:
        text = self._texts.pop(key, None)
        if text is not None:
            self._chars -= len(text)
