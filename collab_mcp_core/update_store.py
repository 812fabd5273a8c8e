"""Rooms' update stores (document history), written in batches.

Every change to a shared document is an update that the room hands to its
SQLite store in a task of its own. pycrdt's ``SQLiteYStore.write`` holds the
store's lock across four or five trips to a worker thread and commits once per
update, and each trip makes anyio look through every task of the event loop.
Under load (20 agents, 270 calls/s) the writes fall behind, their waiting tasks
pile up, and each trip gets slower: people's updates then reached the room
seconds late (bench/RESULTS.md). :class:`BatchedWrites` queues updates and
inserts all that are waiting in one worker-thread call and one transaction,
in order. What only the store's own write does (squashing old history, the
size-based clean-up, the checkpoint every ``checkpoint_interval`` updates)
still goes through it, after the queue is written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread

log = logging.getLogger(__name__)

INSERT = "INSERT INTO yupdates VALUES (?, ?, ?, ?)"


class BatchedWrites:
    """Mixin for pycrdt's ``SQLiteYStore`` (first in the bases): a batched ``write``,
    and ``read`` and ``stop`` that first wait for the queued updates."""

    _pending: list[tuple[bytes, float]] | None = None
    _writer: asyncio.Task | None = None

    async def write(self, data: bytes) -> None:
        store: Any = self
        if not self._batchable():
            await self.flush()
            await super().write(data)  # type: ignore[misc]
            return
        if self._pending is None:
            self._pending = []
        self._pending.append((data, time.time()))
        store._update_counter += 1  # as the store's own write counts towards its next checkpoint
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_pending())

    async def flush(self) -> None:
        """Wait until every queued update is in the database."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def read(self) -> AsyncIterator[tuple[bytes, bytes, float]]:
        await self.flush()
        async for item in super().read():  # type: ignore[misc]
            yield item

    async def stop(self) -> None:
        await self.flush()
        await super().stop()  # type: ignore[misc]

    def _batchable(self) -> bool:
        store: Any = self
        connection = getattr(store, "_db", None)
        return (
            store.db_initialized is not None
            and store.squash_after_inactivity_of is None
            and store.document_ttl is None
            and store.squash_history_older_than is None
            and not store.cleanup_when_db_size_above
            # The store's own write makes the checkpoint: leave it the update that is due for one.
            and not (store.checkpoint_interval and store._update_counter + 1 >= store.checkpoint_interval)
            # sqlite_anyio's connection internals; anything else takes the store's own path
            and (connection is None or hasattr(connection, "_real_connection"))
        )

    async def _write_pending(self) -> None:
        store: Any = self
        await store.db_initialized.wait()
        while self._pending:
            batch, self._pending = self._pending, []
            metadata = await store.get_metadata()
            compress = store._compress
            rows = [(store.path, compress(data) if compress else data, metadata, stamp) for data, stamp in batch]
            try:
                async with store.lock:
                    connection = store._db
                    await to_thread.run_sync(_insert, connection._real_connection, rows, limiter=connection._limiter)
            except Exception:
                log.exception("could not write %d update(s) of %s to the update store", len(rows), store.path)


def _insert(connection: Any, rows: list[tuple[Any, ...]]) -> None:
    with connection:  # one transaction: committed, or rolled back on error
        connection.executemany(INSERT, rows)
