"""Who changed a live document since a version: the change log packs answer "what changed" from.

A pack starts a :class:`ChangeLog` on a room's document the first time it hands
out a version of it, and registers each version with a snapshot of what the
document held then (:meth:`ChangeLog.issue`). From then on the log records
every transaction that touches the observed shared type: its origin, its
author and the keys it touched (cell ids for notebooks). "What changed since
V" is then the pack's diff of V's snapshot against now, with the authors of
the changes after V; "wait for a change" waits for the next change made by
someone other than the caller.

Authors: an agent's transaction names it in its origin (:func:`agent_origin`);
an update from a websocket client is credited to the awareness user of the
client whose inserts it carries (or, for a delete, to the only person in the
room, when there is one: agents' presence states, marked ``agent``, do not count). Otherwise the
author is unknown (None).
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pycrdt import Decoder

from .errors import ToolError

if TYPE_CHECKING:
    from .context import ToolContext

ORIGIN_PREFIX = "collab-mcp:"
MAX_CHANGES = 20_000  # changes kept per document; older versions then become unknown
MAX_VERSIONS = 64  # versions (with snapshots) kept per document
_issued: OrderedDict[str, str] = OrderedDict()  # version -> path, to say which document a stray version is of
MAX_ISSUED = 50_000


def agent_origin(ctx: ToolContext) -> str:
    """The transaction origin of the caller's edits: names the agent and its MCP session."""
    session = f"#{ctx.session_id}" if ctx.session_id else ""
    return f"{ORIGIN_PREFIX}{ctx.identity.username}{session}"


def inserting_client(update: bytes) -> int | None:
    """The client id of the first block of inserts an update carries, or None (deletes only).

    An update (v1 encoding) starts with the number of clients, then for the first
    client the number of its structs and its id. Reading further would mean
    decoding every struct; a keystroke or an edit comes from one client anyway.
    """
    decoder = Decoder(update)
    if decoder.read_var_uint() == 0:
        return None
    decoder.read_var_uint()  # number of structs
    return decoder.read_var_uint()


def person_name(user: dict[str, Any]) -> str | None:
    """How a JupyterLab awareness ``user`` is named (display name first)."""
    name = user.get("display_name") or user.get("name") or user.get("username")
    return str(name) if name else None


def compact_diff(old: str, new: str, limit: int = 2000) -> str:
    """The change from ``old`` to ``new`` as a unified diff with one line of context, cut at ``limit`` characters."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1))[2:]  # no file header
    text = "\n".join(lines)
    if len(text) > limit:
        text = text[:limit] + f"\n[... diff cut at {limit} characters: read the whole text]"
    return text


def update_author(room: Any, update: bytes) -> str | None:
    """The person who made a websocket client's ``update`` of ``room``, by the room's awareness, or None.

    The client whose inserts the update carries; for a delete (no inserts), the only person in the
    room, if there is one. Agents' presence states (marked ``agent``) make no websocket updates.
    """
    awareness = getattr(room, "awareness", None)
    if awareness is None:
        return None
    states = {k: v for k, v in awareness.states.items() if k != awareness.client_id and (v or {}).get("user")}
    client = inserting_client(update)
    if client is not None and client in states:
        return person_name(states[client]["user"])
    people = {person_name(s["user"]) for s in states.values() if "agent" not in s} - {None}
    return people.pop() if len(people) == 1 else None


@dataclass(frozen=True)
class Change:
    """One transaction that touched the observed document."""

    seq: int
    origin: str | None
    author: str | None
    agent: bool
    keys: frozenset[str]
    at: float

    @property
    def who(self) -> str:
        """The author as the model reads it: a person's name, 'name (agent)', or 'someone (unknown)'."""
        if self.agent:
            return f"{self.author} (agent)"
        return self.author or "someone (unknown)"


class ChangeLog:
    """The changes to one room's document since the log started, and the versions handed out."""

    def __init__(self, room: Any, target: Any, keys_of: Callable[[Any], Iterable[str]]) -> None:
        # Weak: the log lives as long as the room's document (its observers hold the log), not longer.
        self._room = weakref.ref(room)
        self.seq = 0
        self.changes: deque[Change] = deque(maxlen=MAX_CHANGES)
        self.versions: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._keys_of = keys_of
        self._pending: tuple[str | None, set[str]] | None = None
        self._waiters: set[asyncio.Future] = set()
        # The type's observer fires first, inside the commit (origin, keys); the document's
        # observer then hands over the update's bytes (who inserted), and closes the entry.
        target.observe_deep(self._touched)
        room.ydoc.observe(self._committed)

    def _touched(self, events: Any) -> None:
        try:
            origin = events[0].transaction.origin if events else None
            keys = set(self._keys_of(events))
            if self._pending is None:
                self._pending = (origin if isinstance(origin, str) else None, keys)
            else:
                self._pending[1].update(keys)
        except Exception:  # never break the room's own update handling
            self._pending = (None, set())

    def _committed(self, event: Any) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return  # the transaction did not touch the observed type
        origin, keys = pending
        try:
            agent = origin is not None and origin.startswith(ORIGIN_PREFIX)
            author = origin[len(ORIGIN_PREFIX):].split("#", 1)[0] if agent else update_author(self._room(), event.update)
        except Exception:
            agent, author = False, None
        self.seq += 1
        self.changes.append(Change(self.seq, origin, author, agent, frozenset(keys), time.time()))
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(None)

    # -- versions -------------------------------------------------------------------------

    def issue(self, version: str, path: str, snapshot: Callable[[], Any]) -> None:
        """Remember ``version`` (the document now) with what it holds; ``snapshot`` runs only for a new one."""
        if version in self.versions:
            self.versions.move_to_end(version)
        else:
            self.versions[version] = (self.seq, snapshot())
            while len(self.versions) > MAX_VERSIONS:
                self.versions.popitem(last=False)
        _issued[version] = path
        _issued.move_to_end(version)
        while len(_issued) > MAX_ISSUED:
            _issued.popitem(last=False)

    def at(self, version: str, path: str) -> tuple[int, Any]:
        """(seq, snapshot) of a version of this document, or a ToolError saying why it is not one."""
        known = self.versions.get(version)
        oldest = self.changes[0].seq if self.changes else 0
        if known is not None and (known[0] >= oldest - 1 or len(self.changes) < MAX_CHANGES):
            return known
        other = _issued.get(version)
        if other is not None and other != path:
            raise ToolError(f"since_version {version!r} is a version of {other!r}, not of {path!r}. Pass a version "
                            f"that a read or edit of {path!r} returned.", fields=["since_version"])
        raise ToolError(
            f"since_version {version!r} is not a version of {path!r} this server still knows (it keeps the last "
            f"{MAX_VERSIONS} versions handed out while the document's room stays open). Read the document again "
            "and use the version it returns.",
            fields=["since_version"],
        )

    def after(self, seq: int) -> list[Change]:
        return [c for c in self.changes if c.seq > seq]

    async def wait_for_others(self, seq: int, own_origin: str, timeout: float) -> bool:
        """Wait until someone other than ``own_origin`` changes the document after ``seq``; False on timeout."""
        deadline = time.monotonic() + timeout
        while not any(c.origin != own_origin for c in self.after(seq)):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.add(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, left)
            finally:
                self._waiters.discard(waiter)
        return True


_logs: weakref.WeakKeyDictionary[Any, ChangeLog] = weakref.WeakKeyDictionary()


def change_log(room: Any, target: Any, keys_of: Callable[[Any], Iterable[str]]) -> ChangeLog:
    """The change log of ``room``'s document (started at first use; one per document object)."""
    log = _logs.get(room.ydoc)
    if log is None:
        log = _logs[room.ydoc] = ChangeLog(room, target, keys_of)
    return log
