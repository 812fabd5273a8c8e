"""Forks kept under the data directory, so that they and their content survive a restart.

jupyter-server-ydoc keeps forks (made through its REST fork API by JupyterLab, or by the
document pack's ``fork_document``) in memory only: a plain ``YRoom`` in the websocket
server, registered in its handlers' ``FORK_ROOMS`` table. The backend shows this store
every room that starts and every room deleted:

- a room that starts while registered in that table is a fork: its entry and its content
  are written at once, then each update as it commits;
- deleting a fork's room (a merge or a discard, through the tools or the REST API) removes
  what was stored for it;
- when the server starts, stored forks are registered and started again, so the REST
  listing and the tools see them as before; a fork that follows its document
  (``synchronize``) follows it again once the document's room is loaded.

Each commit survives a crash of the process (see :func:`.file_records.open_database`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pycrdt import Doc
from pycrdt.websocket import YRoom

from .file_records import open_database

log = logging.getLogger(__name__)

FORKS_FILE = "collab_mcp_forks.db"


def fork_table() -> dict[str, dict[str, Any]]:
    """jupyter-server-ydoc's fork registry (what ``GET /api/collaboration/fork/<room>`` lists)."""
    from jupyter_server_ydoc import handlers

    return handlers.FORK_ROOMS


class ForkStore:
    """Every fork's registry entry and updates, by fork id."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._db = open_database(db_path)
        self._db.execute("CREATE TABLE IF NOT EXISTS forks (fork_id TEXT PRIMARY KEY, info TEXT NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS fork_updates (fork_id TEXT NOT NULL, yupdate BLOB NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS fork_updates_by_fork ON fork_updates (fork_id)")
        self._kept: dict[str, tuple[Doc, Any]] = {}  # fork id -> (its document, our subscription)
        self._following: dict[str, tuple[Doc, Any]] = {}  # fork id -> (the root document it follows, subscription)

    def started(self, fork_id: str, room: YRoom) -> None:
        """Keep a fork that just started: its entry and content now, its updates as they come."""
        kept = self._kept.get(fork_id)
        if kept is not None and kept[0] is room.ydoc:
            return
        info = fork_table().get(fork_id) or {}
        new = self._db.execute("INSERT OR IGNORE INTO forks VALUES (?, ?)", (fork_id, json.dumps(info))).rowcount
        if new:
            self._append(fork_id, room.ydoc.get_update())
        subscription = room.ydoc.observe(lambda event: self._append(fork_id, event.update))
        self._kept[fork_id] = (room.ydoc, subscription)

    def deleted(self, fork_id: str) -> None:
        """The fork's room was deleted (merged or discarded): forget everything stored for it."""
        for table in (self._kept, self._following):
            entry = table.pop(fork_id, None)
            if entry is not None:
                _unobserve(*entry)
        with self._db:
            self._db.execute("DELETE FROM fork_updates WHERE fork_id = ?", (fork_id,))
            self._db.execute("DELETE FROM forks WHERE fork_id = ?", (fork_id,))

    def is_fork(self, fork_id: str) -> bool:
        return fork_id in self._kept

    async def restore(self, server: Any) -> list[str]:
        """Register and start every stored fork again (the server is starting). Returns their ids."""
        restored = []
        for fork_id, info in self._db.execute("SELECT fork_id, info FROM forks").fetchall():
            if fork_id in server.rooms:
                continue
            doc = Doc()
            for (update,) in self._db.execute("SELECT yupdate FROM fork_updates WHERE fork_id = ? ORDER BY rowid", (fork_id,)):
                doc.apply_update(update)
            fork_table()[fork_id] = json.loads(info)
            room = YRoom(ydoc=doc)
            server.rooms[fork_id] = room
            await server.start_room(room)  # the backend's hook hands it to started()
            restored.append(fork_id)
        return restored

    def root_loaded(self, room: Any) -> None:
        """A document room finished loading: synchronized forks of it follow it (again)."""
        for fork_id, info in list(fork_table().items()):
            kept = self._kept.get(fork_id)
            if kept is None or not info.get("synchronize") or info.get("root_roomid") != room.room_id:
                continue
            following = self._following.get(fork_id)
            if following is not None and following[0] is room.ydoc:
                continue
            if following is not None:
                _unobserve(*following)
            fork_doc = kept[0]
            fork_doc.apply_update(room.ydoc.get_update(fork_doc.get_state()))  # what it missed meanwhile
            subscription = room.ydoc.observe(lambda event, doc=fork_doc: doc.apply_update(event.update))
            self._following[fork_id] = (room.ydoc, subscription)

    def _append(self, fork_id: str, update: bytes) -> None:
        try:
            self._db.execute("INSERT INTO fork_updates VALUES (?, ?)", (fork_id, update))
        except Exception:  # called while a transaction commits: never raise into pycrdt
            log.exception("could not store an update of fork %s", fork_id)


def _unobserve(doc: Doc, subscription: Any) -> None:
    try:
        doc.unobserve(subscription)
    except Exception:  # the document may be gone already
        log.debug("could not unobserve a fork's document", exc_info=True)
