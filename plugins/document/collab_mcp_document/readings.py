"""What each agent last saw of each document, so its positions mean what it meant.

An agent computes positions and whole replacements from the text it read; people
may have typed since. The pack remembers, per agent session and document (or
fork), the text as the agent last read it or left it after its own edit. An edit
is computed against that text, then moved over the changes others made since
(:func:`.positions.rebase`): their typing is kept, and the agent's edit lands
where it meant. Bounded: only recent, not too large, texts are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collab_mcp_core import ToolContext

    from .documents import DocumentRef

MAX_ENTRIES = 256
MAX_CHARS = 2_000_000

Key = tuple[str, str, str]
_seen: OrderedDict[Key, str] = OrderedDict()


def key_of(ctx: ToolContext, ref: DocumentRef, fork_id: str | None) -> Key:
    # The 2026-07-28 revision has no sessions: fall back to the caller's identity.
    return (ctx.session_id or f"user:{ctx.identity.username}", ref.path, fork_id or "")


def last_seen(key: Key) -> str | None:
    text = _seen.get(key)
    if text is not None:
        _seen.move_to_end(key)
    return text


def remember(key: Key, text: str) -> None:
    if len(text) > MAX_CHARS:
        _seen.pop(key, None)  # too large to keep: the next edit is computed against the live text
        return
    _seen[key] = text
    _seen.move_to_end(key)
    while len(_seen) > MAX_ENTRIES:
        _seen.popitem(last=False)


def forget_session(session_id: str) -> None:
    for key in [k for k in _seen if k[0] == session_id]:
        del _seen[key]
