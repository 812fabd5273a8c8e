"""The batched update store (document history): real SQLite, real pycrdt updates."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import anyio
import pytest
from jupyter_server_ydoc.stores import SQLiteYStore
from pycrdt import Doc, Text

from collab_mcp_core.update_store import BatchedWrites


class Store(BatchedWrites, SQLiteYStore):
    pass


def updates(n: int) -> tuple[Doc, list[bytes]]:
    doc, found = Doc(), []
    text = doc.get("source", type=Text)
    doc.observe(lambda event: found.append(event.update))
    for i in range(n):
        text += f"{i} "
    return doc, found


async def history(store: Store) -> list[bytes]:
    return [update async for update, _metadata, _timestamp in store.read()]


@pytest.mark.parametrize("checkpoint_interval", [None, 7])
async def test_every_update_is_stored_once_in_order(tmp_path, checkpoint_interval):
    doc, made = updates(25)
    async with anyio.create_task_group() as tg:
        store = Store(path="notes.txt", db_path=str(tmp_path / "ystore.db"))
        store.checkpoint_interval = checkpoint_interval
        await tg.start(store.start)
        for update in made:
            await store.write(update)  # returns at once; the writes happen in batches
        assert store._writer is not None  # they were queued, not written one by one
        stored = await history(store)  # waits for the queue first
        await store.stop()
    assert stored == made
    replay = Doc()
    for update in stored:
        replay.apply_update(update)
    assert str(replay.get("source", type=Text)) == str(doc.get("source", type=Text))


async def test_squashing_stores_take_the_stores_own_path(tmp_path):
    _doc, made = updates(3)
    async with anyio.create_task_group() as tg:
        store = Store(path="notes.txt", db_path=str(tmp_path / "ystore.db"))
        store.squash_after_inactivity_of = 3600
        await tg.start(store.start)
        for update in made:
            await store.write(update)
        assert store._writer is None  # nothing was queued
        assert await history(store) == made
        await store.stop()


async def test_a_followed_document_is_stored_as_it_changes_once_with_its_agent(tmp_path):
    from collab_mcp_core.update_store import agent_of, edits_by

    doc = Doc()
    text = doc.get("source", type=Text)
    handed_over: list[bytes] = []
    doc.observe(lambda event: handed_over.append(event.update))  # what the room passes on later
    async with anyio.create_task_group() as tg:
        store = Store(path="notes.txt", db_path=str(tmp_path / "ystore.db"))
        await tg.start(store.start)
        assert store.follow(doc)
        with edits_by("agent-7"):
            text += "by the agent "
        text += "by someone else"
        assert store._writer is not None  # queued as the transactions committed, before any hand-over
        await store.flush()
        for update in handed_over:
            await store.write(update)  # the room's own hand-over: already stored, skipped
        rows = [(update, metadata) async for update, metadata, _timestamp in store.read()]
        await store.stop()
    assert [update for update, _ in rows] == handed_over
    assert [agent_of(metadata) for _, metadata in rows] == ["agent-7", None]


async def test_a_batch_that_finds_the_database_locked_waits_off_the_loop(tmp_path, monkeypatch):
    import sqlite3
    import threading

    from collab_mcp_core import update_store

    loop_thread, inserts = threading.get_ident(), []
    real = update_store._insert
    monkeypatch.setattr(update_store, "_insert", lambda c, rows: (inserts.append(threading.get_ident()), real(c, rows)))
    db_path = str(tmp_path / "ystore.db")
    _doc, made = updates(3)
    async with anyio.create_task_group() as tg:
        store = Store(path="notes.txt", db_path=db_path)
        await tg.start(store.start)
        await store.write(made[0])
        await store.flush()  # the table exists and the connection is tuned
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
        for update in made[1:]:
            await store.write(update)
        flushed = anyio.Event()

        async def flush() -> None:
            await store.flush()
            flushed.set()

        tg.start_soon(flush)
        for _ in range(20):
            await anyio.sleep(0.01)  # the loop runs on: the batch waits in a worker thread
        assert not flushed.is_set()
        other.execute("COMMIT")
        other.close()
        await flushed.wait()
        assert await history(store) == made  # each update once, in order
        await store.stop()
    # The first batch committed on the loop; the second tried there without waiting, then waited in a thread.
    assert inserts[:2] == [loop_thread, loop_thread] and len(inserts) == 3 and inserts[2] != loop_thread


async def test_checkpoints_run_every_so_many_commits_in_a_worker_thread(tmp_path, monkeypatch):
    import threading

    from collab_mcp_core import update_store

    loop_thread, seen = threading.get_ident(), []
    real = update_store._checkpoint
    monkeypatch.setattr(update_store, "CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(update_store, "_checkpoint", lambda path: (seen.append((path, threading.get_ident())), real(path)))
    db_path = str(tmp_path / "ystore.db")
    _doc, made = updates(5)
    async with anyio.create_task_group() as tg:
        store = Store(path="notes.txt", db_path=db_path)
        await tg.start(store.start)
        for update in made:
            await store.write(update)
            await store.flush()  # one commit each
        assert store._checkpoint is not None
        await store._checkpoint
        assert await history(store) == made
        await store.stop()
    assert seen and all(path == db_path and thread != loop_thread for path, thread in seen)


def _rows_seen_by_another_connection(db_path: str) -> int:
    other = sqlite3.connect(db_path)
    try:
        return other.execute("SELECT COUNT(*) FROM yupdates").fetchone()[0]
    finally:
        other.close()


@contextlib.asynccontextmanager
async def followed_store(tmp_path):
    """A started store following a fresh document: (store, the document's text, the database path)."""
    doc = Doc()
    db_path = str(tmp_path / "ystore.db")
    async with anyio.create_task_group() as tg:
        store = Store(path="notes.txt", db_path=db_path)
        await tg.start(store.start)
        assert store.follow(doc)
        yield store, doc.get("source", type=Text), db_path
        await store.stop()


async def test_an_agents_edit_is_committed_by_its_calls_flush_after_the_broadcast(tmp_path):
    """The host flushes before a tool answers: the room's broadcast (tasks already ready) goes first,
    then the flush commits the edit itself; no writer task is started for it."""
    from collab_mcp_core.update_store import edits_by

    async with followed_store(tmp_path) as (store, text, db_path):
        text += "someone's "  # not an agent's: the writer task commits it (and tunes the connection)
        await store.flush()
        before = _rows_seen_by_another_connection(db_path)
        broadcast = []
        with edits_by("agent-7"):
            text += "the agent's"
            asyncio.get_running_loop().call_soon(broadcast.append, "sent")  # ready, as the room's task is
            assert store._writer.done() and store._pending  # queued, no writer task started for it
            await store.flush()
        assert broadcast == ["sent"]
        assert _rows_seen_by_another_connection(db_path) == before + 1
        assert store._writer.done()  # the same, finished task: the flush committed it


async def test_an_agents_edit_without_a_flush_is_committed_soon_by_the_writer(tmp_path):
    """A tool call that runs on after its edit (waiting for a kernel) does not hold the edit back."""
    from collab_mcp_core import update_store
    from collab_mcp_core.update_store import edits_by

    async with followed_store(tmp_path) as (store, text, db_path):
        with edits_by("agent-7"):
            text += "the agent's"
        await anyio.sleep(update_store.WRITE_BEHIND * 4)
        assert not store._pending and _rows_seen_by_another_connection(db_path) == 1
