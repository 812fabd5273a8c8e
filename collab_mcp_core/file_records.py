"""What collab-mcp last saved or loaded for each document file, and what a changed file overwrote.

A small SQLite file next to the update store, one row per room (``format:type:file_id``;
file ids outlive restarts):

- ``files``: the hash of the file as collab-mcp last wrote it (or loaded it into the room,
  once the store held that content) and when. On restart a file with that hash is one the
  store already holds, so the room is rebuilt from the store (see :mod:`.durable_rooms`).
- ``overwritten``: versions of a document a file changed on disk overwrote when its room
  was loaded again: the edits in them never reached the disk, and the store still holds
  them, so they stay restorable from the document's history.

Commits are durable against a crash of the process (WAL, ``synchronous=NORMAL``).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

RECORDS_FILE = "collab_mcp_files.db"


def open_database(db_path: str) -> sqlite3.Connection:
    """A small SQLite database of collab-mcp's own (this one, the fork store), in autocommit mode:
    WAL with ``synchronous=NORMAL``, so each commit survives a crash of the process."""
    db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


@dataclass(frozen=True)
class Overwritten:
    """A version the file on disk overwrote: ``version`` is the store timestamp of its last update."""

    version: float
    at: float


class FileRecords:
    """Saved-file hashes and overwritten versions, per room id."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._db = open_database(db_path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS files (room_id TEXT PRIMARY KEY, hash TEXT NOT NULL, recorded REAL NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS overwritten (room_id TEXT NOT NULL, version REAL NOT NULL, at REAL NOT NULL)"
        )

    def known_hash(self, room_id: str) -> tuple[str, float] | None:
        """The hash collab-mcp last recorded for the room's file, and when; None if none."""
        row = self._db.execute("SELECT hash, recorded FROM files WHERE room_id = ?", (room_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def record(self, room_id: str, file_hash: str) -> None:
        """The store now holds the content of the file with this hash."""
        self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", (room_id, file_hash, time.time()))

    def overwrote(self, room_id: str, version: float) -> None:
        self._db.execute("INSERT INTO overwritten VALUES (?, ?, ?)", (room_id, version, time.time()))

    def overwritten(self, room_id: str) -> list[Overwritten]:
        rows = self._db.execute("SELECT version, at FROM overwritten WHERE room_id = ? ORDER BY at", (room_id,))
        return [Overwritten(version, at) for version, at in rows]

    def close(self) -> None:
        self._db.close()
