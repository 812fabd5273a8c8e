"""The per-session event store behind Last-Event-ID resumption (pure logic)."""

from __future__ import annotations

from mcp_types import JSONRPCNotification

from collab_mcp_core.transport import SessionEventStore


def note(n: int) -> JSONRPCNotification:
    return JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"progress": n})


async def replay(store: SessionEventStore, last: str) -> tuple[str | None, list]:
    got = []

    async def send(event):
        got.append(event)

    stream = await store.replay_events_after(last, send)
    return stream, got


async def test_replays_only_later_events_of_the_same_stream():
    store = SessionEventStore(max_events=10)
    first = await store.store_event("s1", note(1))
    await store.store_event("s2", note(99))
    await store.store_event("s1", note(2))
    await store.store_event("s1", None)  # priming events are never replayed
    await store.store_event("s1", note(3))
    stream, got = await replay(store, first)
    assert stream == "s1"
    assert [e.message.params["progress"] for e in got] == [2, 3]


async def test_event_ids_are_random_and_foreign_ids_replay_nothing():
    mine, theirs = SessionEventStore(10), SessionEventStore(10)
    their_id = await theirs.store_event("s", note(1))
    await theirs.store_event("s", note(2))
    my_id = await mine.store_event("s", note(1))
    assert my_id != their_id and len(my_id) >= 20
    stream, got = await replay(mine, their_id)
    assert stream is None and got == []


async def test_store_is_bounded():
    store = SessionEventStore(max_events=3)
    ids = [await store.store_event("s", note(i)) for i in range(5)]
    stream, got = await replay(store, ids[0])
    assert stream is None and got == []  # evicted
    stream, got = await replay(store, ids[2])
    assert [e.message.params["progress"] for e in got] == [3, 4]
