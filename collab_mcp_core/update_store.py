"""Rooms' update stores (document history): written in batches, durable before a tool returns.

Every change to a shared document is an update that the room hands to its
SQLite store in a task of its own, a moment after the change. Two problems
with that, both solved here:

- Speed. pycrdt's ``SQLiteYStore.write`` holds the store's lock across four or
  five trips to a worker thread and commits once per update, and each trip
  makes anyio look through every task of the event loop. Under load (20
  agents, 270 calls/s) the writes fell behind and people's updates reached
  the room seconds late (bench/RESULTS.md). :class:`BatchedWrites` queues
  updates and inserts all that are waiting in one worker-thread call and one
  transaction, in order.
- Durability. An edit a tool reported as done must survive a crash, but the
  room's hand-over happens after the tool returned. :meth:`BatchedWrites.follow`
  takes each update from the document itself, as its transaction commits
  (with the agent whose tool call commits it, see :func:`edits_by`), so that
  :meth:`BatchedWrites.flush` right after a tool's edit leaves it committed to
  the database. The room's own hand-over of the same update is then skipped.
- The cost of that wait. A commit in WAL mode without an fsync takes tens of
  microseconds, a round trip to a worker thread several hundred (and on two
  cores the GIL hand-over to the thread and back delays whatever the loop
  does next, the tool's reply included). So batches are committed on the
  event loop without waiting for other connections; a batch that finds the
  database locked by one goes to a worker thread, which may wait.
  Automatic checkpoints would run inside such a commit, with their fsyncs,
  so they are off: every ``CHECKPOINT_EVERY`` commits a checkpoint runs on a
  connection of its own in a worker thread (``PASSIVE``: writers go on).
  An agent's own edits are not handed to the writer task at all: the host's
  flush as the tool call ends lets the room's broadcast go out first, then
  commits them itself (the writer task's trips through the loop let unrelated
  ready tasks run before the tool's reply). A call that runs on after its
  edit gets the writer task ``WRITE_BEHIND`` seconds later.

What only the store's own write does (squashing old history, the size-based
clean-up, the checkpoint every ``checkpoint_interval`` updates) still goes
through it for updates the room hands over; a store that squashes or cleans up
is never followed, and a followed store makes no checkpoints.

And one problem at stop: see :func:`stop_stores`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from anyio import to_thread

log = logging.getLogger(__name__)

INSERT = "INSERT INTO yupdates VALUES (?, ?, ?, ?)"
WRITE_BEHIND = 0.05  # seconds after an agent's edit its tool call's flush would commit it, or the writer does
CHECKPOINT_EVERY = 500  # commits of one store between two checkpoints of its database
BUSY_TIMEOUT_MS = 5000  # how long a write off the loop waits for another connection's (sqlite3's default)

# Stores whose start() has not returned yet, for the stop (see stop_stores): a deleted room's
# store is stopped with it (room hooks); this catches those of rooms that ended otherwise
# (jupyter-server-ydoc only stops a room whose load failed).
_running: weakref.WeakSet[Any] = weakref.WeakSet()


class BatchedWrites:
    """Mixin for pycrdt's ``SQLiteYStore`` (first in the bases): a batched ``write``,
    ``follow`` to take updates as they are made, and ``read`` and ``stop`` that first
    wait for the queued updates."""

    _pending: list[tuple[bytes, float, bytes | None]] | None = None  # update, timestamp, metadata
    _writer: asyncio.Task | None = None
    _writer_later: asyncio.TimerHandle | None = None  # the writer task's start, for an agent's edits
    _followed: tuple[Any, Any] | None = None  # (ydoc, subscription)
    _taken: dict[bytes, int] | None = None  # updates taken from the document, not yet handed over by the room
    _tuned = False  # whether this store's connection commits in WAL mode yet (see _tune)
    _commits = 0  # commits since the last checkpoint
    _checkpoint: asyncio.Task | None = None

    async def start(self, **kwargs: Any) -> None:
        _running.add(self)
        try:
            await super().start(**kwargs)  # type: ignore[misc]
        finally:
            _running.discard(self)

    async def write(self, data: bytes) -> None:
        store: Any = self
        taken = self._taken
        if taken and data in taken:  # already queued by follow(), as it was made
            if taken[data] == 1:
                del taken[data]
            else:
                taken[data] -= 1
            return
        if not self._batchable():
            await self.flush()
            await super().write(data)  # type: ignore[misc]
            return
        store._update_counter += 1  # as the store's own write counts towards its next checkpoint
        self._enqueue(data, None)

    def follow(self, ydoc: Any) -> bool:
        """Queue each update of ``ydoc`` as its transaction commits; False if this store
        must write through its own path (it squashes or cleans up history)."""
        if self._followed is not None:
            return self._followed[0] is ydoc
        if not self._plain():
            return False
        # Followed updates are stamped when made and written a moment later; a checkpoint
        # stamped in between would hide them from the next load (pycrdt-store loads the
        # checkpoint and the rows stamped after it), so a followed store makes none.
        store: Any = self
        store.checkpoint_interval = None
        self._taken = {}
        self._followed = (ydoc, ydoc.observe(lambda event: self._take(event.update)))
        return True

    async def flush(self) -> None:
        """Wait until every queued update is committed to the database.

        A tool's own edits wait here for the host's flush as the call ends (see
        :meth:`_enqueue`): the room's broadcast goes out first, then they are committed on
        the spot, without the writer task's trips through the loop.
        """
        if self._pending and not self._writing():
            # The broadcast takes two turns of the loop: its task, then the send tasks it starts.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            if not self._writing() and (not self._pending or self._commit_now()):  # (another update may have started one)
                return
            self._start_writer()
        while self._writing():
            await asyncio.shield(self._writer)  # type: ignore[arg-type]

    async def read(self) -> AsyncIterator[tuple[bytes, bytes, float]]:
        await self.flush()
        async for item in super().read():  # type: ignore[misc]
            yield item

    async def stop(self) -> None:
        if self._followed is not None:
            ydoc, subscription = self._followed
            self._followed = None
            try:
                ydoc.unobserve(subscription)
            except Exception:  # the document may be gone already
                log.debug("could not stop following a document", exc_info=True)
        await self.flush()
        self._start_writer()  # cancels a pending start; the queue is empty by now
        if self._checkpoint is not None:
            await self._checkpoint  # its worker thread ends with it
        await super().stop()  # type: ignore[misc]

    def _take(self, update: bytes) -> None:
        # Called while the transaction commits: no await, and never raise into pycrdt.
        assert self._taken is not None
        self._taken[update] = self._taken.get(update, 0) + 1
        self._enqueue(update, agent_metadata())

    def _enqueue(self, data: bytes, metadata: bytes | None) -> None:
        if self._pending is None:
            self._pending = []
        self._pending.append((data, time.time(), metadata))
        if self._writing():
            return
        if metadata is None:
            self._start_writer()
        elif self._writer_later is None:
            # An agent's edit in its own tool call: the host flushes before the call answers,
            # and commits it then (see flush). The writer task is the fallback, for long calls.
            self._writer_later = asyncio.get_running_loop().call_later(WRITE_BEHIND, self._start_writer)

    def _writing(self) -> bool:
        return self._writer is not None and not self._writer.done()

    def _start_writer(self) -> None:
        if self._writer_later is not None:
            self._writer_later.cancel()
            self._writer_later = None
        if self._pending and not self._writing():
            self._writer = asyncio.get_running_loop().create_task(self._write_pending())

    def _plain(self) -> bool:
        """No squashing or clean-up configured, and sqlite_anyio's connection internals in reach."""
        store: Any = self
        connection = getattr(store, "_db", None)
        return (
            store.squash_after_inactivity_of is None
            and store.document_ttl is None
            and store.squash_history_older_than is None
            and not store.cleanup_when_db_size_above
            and (connection is None or hasattr(connection, "_real_connection"))
        )

    def _batchable(self) -> bool:
        store: Any = self
        return (
            store.db_initialized is not None
            and self._plain()
            # The store's own write makes the checkpoint: leave it the update that is due for one.
            and not (store.checkpoint_interval and store._update_counter + 1 >= store.checkpoint_interval)
        )

    async def _write_pending(self) -> None:
        store: Any = self
        await store.db_initialized.wait()
        while self._pending:
            batch, self._pending = self._pending, []
            rows = self._rows(batch, await store.get_metadata())
            try:
                async with store.lock:
                    connection = store._db
                    if not self._tuned:
                        await to_thread.run_sync(_tune, connection._real_connection, limiter=connection._limiter)
                        self._tuned = True
                    await self._commit(connection, rows)
            except Exception:
                log.exception("could not write %d update(s) of %s to the update store", len(rows), store.path)

    def _rows(self, batch: list[tuple[bytes, float, bytes | None]], default: bytes) -> list[tuple[Any, ...]]:
        store: Any = self
        compress = store._compress
        return [
            (store.path, compress(data) if compress else data, default if metadata is None else metadata, stamp)
            for data, stamp, metadata in batch
        ]

    def _commit_now(self) -> bool:
        """Commit the queue here, without yielding (the caller checked no writer task runs);
        False if it must go through the writer task (the store not ready, its lock held, the
        database locked by another connection: the writer waits for it in a worker thread)."""
        store: Any = self
        ready = store.db_initialized is not None and store.db_initialized.is_set()
        if not ready or not self._tuned or store.metadata_callback is not None or store.lock.locked():
            return False
        # No await from here on: nothing else can use the connection meanwhile.
        rows = self._rows(self._pending, b"")  # b"": what get_metadata() gives without a callback
        try:
            _insert_at_once(store._db._real_connection, rows)
        except sqlite3.OperationalError as err:
            if _locked(err):
                return False
            log.exception("could not write %d update(s) of %s to the update store", len(rows), store.path)
            self._pending = []  # dropped, as the writer task drops a batch that fails
            return True
        self._pending = []
        self._committed()
        return True

    async def _commit(self, connection: Any, rows: list[tuple[Any, ...]]) -> None:
        """Insert ``rows`` in one transaction: here on the loop, or in a worker thread if the
        database is locked (call with the store's lock held: nothing else uses the connection)."""
        try:
            _insert_at_once(connection._real_connection, rows)
        except sqlite3.OperationalError as err:
            if not _locked(err):
                raise
            await to_thread.run_sync(_insert, connection._real_connection, rows, limiter=connection._limiter)
        self._committed()

    def _committed(self) -> None:
        """Count a commit; every ``CHECKPOINT_EVERY`` start a checkpoint in a worker thread."""
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and (self._checkpoint is None or self._checkpoint.done()):
            self._commits = 0
            db_path: Any = getattr(self, "db_path", None)
            if db_path:
                self._checkpoint = asyncio.get_running_loop().create_task(to_thread.run_sync(_checkpoint, str(db_path)))


async def stop_store(store: Any) -> None:
    """Stop a room's store (of any class), if running, and wait until its ``start()`` has returned.

    jupyter-server-ydoc starts a room's store in a task of its own, which ends only when the
    store is stopped, and never stops it: not when the room is deleted, not at shutdown.
    anyio ends a worker thread when the task it was first started from ends, and a store's
    first file access starts one from the store's task. Left running, that thread outlived
    the event loop and the interpreter waited for it forever after "Deleting all rooms".
    So the room hooks call this as each room is deleted, and :func:`stop_stores` at shutdown.
    """
    if getattr(store, "_task_group", None) is None:
        return  # none, never started, or stopped already
    try:
        await store.stop()  # a BatchedWrites store writes what is queued first
        async with store._start_lock:  # noqa: SLF001 - start() holds it until it returns
            pass
    except Exception:
        log.warning("could not stop the update store of %s", getattr(store, "path", "?"), exc_info=True)


async def stop_stores(stores: Iterable[Any], timeout: float) -> None:
    """At shutdown: stop ``stores`` (the open rooms') and every batched store still running
    (the stores of rooms that ended without being deleted: see :data:`_running`)."""
    everyone = {id(s): s for s in [*stores, *_running] if s is not None}
    try:
        await asyncio.wait_for(asyncio.gather(*(stop_store(s) for s in everyone.values())), timeout)
    except TimeoutError:
        log.warning("some update stores did not stop within %ss", timeout)


@contextlib.contextmanager
def edits_by(agent: str) -> Iterator[None]:
    """Credit updates this task commits meanwhile to ``agent`` (the host wraps each tool call).

    Only the task itself: tasks it starts (a room's save, a file watcher) are not the agent.
    pycrdt 0.14 gives observers no transaction origin to read this from.
    """
    token = _editing.set((agent, asyncio.current_task()))
    try:
        yield
    finally:
        _editing.reset(token)


def agent_metadata() -> bytes | None:
    """The agent committing now in this task, as a row's metadata; None for anyone else."""
    editing = _editing.get()
    if editing is None or editing[1] is not asyncio.current_task():
        return None
    return json.dumps({"agent": editing[0]}).encode()


def agent_of(metadata: bytes | None) -> str | None:
    """The agent a row's metadata names (see :func:`agent_metadata`), or None."""
    if not metadata:
        return None
    try:
        agent = json.loads(metadata).get("agent")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    return agent if isinstance(agent, str) else None


_editing: contextvars.ContextVar[tuple[str, asyncio.Task | None] | None] = contextvars.ContextVar(
    "collab_mcp_editing", default=None
)


def _tune(connection: Any) -> None:
    """Commits that survive a crash of the process without an fsync each (WAL, ``synchronous=NORMAL``):
    with the default rollback journal every commit waited for several fsyncs (30-40 ms a tool call here).
    A power cut may lose the last commits; a killed server loses none. No commit checkpoints (that
    fsyncs, on the event loop): see :meth:`BatchedWrites._commit`."""
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")


def _insert(connection: Any, rows: list[tuple[Any, ...]]) -> None:
    with connection:  # one transaction: committed, or rolled back on error
        connection.executemany(INSERT, rows)


def _insert_at_once(connection: Any, rows: list[tuple[Any, ...]]) -> None:
    """``_insert`` that never waits for another connection: it raises "database is locked" instead."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        _insert(connection, rows)
    finally:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # sqlite3.connect's default, for the store's own calls


def _locked(err: sqlite3.OperationalError) -> bool:
    return "locked" in str(err) or "busy" in str(err)


def _checkpoint(db_path: str) -> None:
    """Copy the write-ahead log into the database (in a worker thread: it fsyncs)."""
    connection = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:
        log.warning("could not checkpoint the update store %s", db_path, exc_info=True)
    finally:
        connection.close()
