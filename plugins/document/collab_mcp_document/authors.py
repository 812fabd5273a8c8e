"""Who made each change: an author log beside the update store.

The update store records each update with a timestamp but not who made it.
The pack observes the documents it opens and records, per update (keyed by a
hash of its bytes, exactly what the store keeps), who made it:

- agent edits run in :func:`agent_transaction`, which names the agent while
  the transaction commits (pycrdt calls document observers synchronously then).
  A plain attribute, not a context variable: tasks the room starts during the
  commit (its debounced save) would inherit a context variable and credit the
  agent with their later updates;
- other updates come from websocket clients: the person is found in the room's awareness
  (:func:`collab_mcp_core.update_author`).

Updates made while the pack was not observing the room have no known author.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from collab_mcp_core import agent_origin, update_author

if TYPE_CHECKING:
    from collab_mcp_core import ToolContext

log = logging.getLogger(__name__)

AUTHORS_FILE = "collab_mcp_document_authors.db"

class _Committing:
    """The agent whose transaction is committing right now (no await happens meanwhile)."""

    author: str | None = None


@contextlib.contextmanager
def agent_transaction(ydoc: Any, ctx: ToolContext) -> Iterator[None]:
    """One transaction on ``ydoc`` attributed to the calling agent (and its session). Do not await inside."""
    previous, _Committing.author = _Committing.author, ctx.identity.username
    try:
        with ydoc.transaction(origin=agent_origin(ctx)):
            yield
    finally:
        _Committing.author = previous


def update_key(update: bytes) -> str:
    return hashlib.sha1(update).hexdigest()  # noqa: S324 - an identity key, not security


class AuthorLog:
    """Per-update authors, in a small SQLite file next to the update store."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # commits without an fsync each: typing is fast
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS authors (update_key TEXT PRIMARY KEY, authors TEXT NOT NULL, agent INTEGER NOT NULL)"
        )
        self._watched: dict[str, tuple[Any, Any]] = {}  # room id -> (ydoc, subscription)

    def record(self, update: bytes, authors: list[str], agent: bool) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO authors VALUES (?, ?, ?)", (update_key(update), json.dumps(authors), int(agent))
        )

    def lookup(self, updates: list[bytes]) -> dict[str, tuple[list[str], bool]]:
        keys = [update_key(u) for u in updates]
        found: dict[str, tuple[list[str], bool]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                f"SELECT update_key, authors, agent FROM authors WHERE update_key IN ({','.join('?' * len(chunk))})",  # noqa: S608
                chunk,
            )
            for key, authors, agent in rows:
                found[key] = (json.loads(authors), bool(agent))
        return found

    def watch(self, room_id: str, room: Any) -> None:
        """Record authors of every later update of this room's document."""
        watched = self._watched.get(room_id)
        if watched is not None and watched[0] is room.ydoc:
            return
        subscription = room.ydoc.observe(lambda event: self._on_update(room, event.update))
        self._watched[room_id] = (room.ydoc, subscription)

    def forget(self, room_id: str, room: Any) -> None:
        """Stop watching a room that closed (its document is gone)."""
        watched = self._watched.get(room_id)
        if watched is not None and watched[0] is room.ydoc:
            ydoc, subscription = self._watched.pop(room_id)
            with contextlib.suppress(Exception):
                ydoc.unobserve(subscription)

    def _on_update(self, room: Any, update: bytes) -> None:
        try:
            agent = _Committing.author
            if agent is not None:
                self.record(update, [agent], True)
                return
            name = update_author(room, update)
            if name:
                self.record(update, [str(name)], False)
        except Exception:  # never break the room's own update handling
            log.debug("could not record the author of an update", exc_info=True)

    def close(self) -> None:
        for ydoc, subscription in self._watched.values():
            with contextlib.suppress(Exception):
                ydoc.unobserve(subscription)
        self._watched.clear()
        self._db.close()


_log: AuthorLog | None = None


def open_author_log(store_db_path: str | None, data_dir: str) -> AuthorLog:
    """Open the author log next to the update store (or in the data directory)."""
    global _log
    folder = os.path.dirname(store_db_path) if store_db_path else data_dir
    os.makedirs(folder, exist_ok=True)
    _log = AuthorLog(os.path.join(folder, AUTHORS_FILE))
    return _log


def author_log() -> AuthorLog | None:
    return _log


def close_author_log() -> None:
    global _log
    if _log is not None:
        _log.close()
        _log = None
