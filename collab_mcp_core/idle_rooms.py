"""Closing the rooms agents opened, once nobody has used them for a while.

A room opened with ``get_document(create=True)`` is never cleaned up by
jupyter-server-ydoc (it schedules cleanup only when a websocket client leaves),
so an agent that touches many files would keep every one of them in memory.
:class:`IdleRooms` remembers when agents last used each room and closes those
no websocket client is in and no agent used for a while (deleting a room saves it
first if it changed: :mod:`.room_hooks`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from . import metrics


class IdleRooms:
    """When agents last used each room, and closing the idle ones."""

    def __init__(self, ydoc: Callable[[], Any], log: Callable[[], Any]) -> None:
        self._ydoc = ydoc  # the jupyter-server-ydoc extension, looked up when needed
        self._log = log  # the server's logger, looked up when needed
        self._used: dict[str, float] = {}  # room id -> when an agent last used it (monotonic seconds)
        metrics.count_agent_rooms(lambda: len(self._used))

    def used(self, room_id: str) -> None:
        self._used[room_id] = time.monotonic()

    async def close_idle(self, idle_seconds: float) -> list[str]:
        """Save and close rooms agents used, once no websocket client is in them
        and no agent used them for ``idle_seconds``. Returns the closed room ids."""
        closed = []
        now = time.monotonic()
        server = self._ydoc().ywebsocket_server
        for room_id, last_used in list(self._used.items()):
            room = server.rooms.get(room_id)
            if room is None:
                self._used.pop(room_id, None)  # someone else cleaned it up
                continue
            if room.clients or _cleaning(room) or now - last_used < idle_seconds:
                continue  # people are in it or just left (their own cleaner applies), or an agent is at work
            try:
                await self._close(room_id, room)
            except Exception:
                self._log().exception("collab-mcp could not close idle room %s", room_id)
                continue
            self._used.pop(room_id, None)
            closed.append(room_id)
        return closed

    async def _close(self, room_id: str, room: Any) -> None:
        ydoc = self._ydoc()
        async with ydoc._room_locks[room_id]:  # noqa: SLF001 - the lock jupyter-server-ydoc's handlers use
            await ydoc.ywebsocket_server.delete_room(room=room)  # which saves it and stops its store (room hooks)
            file_id = room_id.split(":", 2)[2]
            if file_id in ydoc.file_loaders and ydoc.file_loaders[file_id].number_of_subscriptions == 0:
                await ydoc.file_loaders.remove(file_id)
        self._log().info("collab-mcp closed idle room %s", room_id)


def _cleaning(room: Any) -> bool:
    """Whether jupyter-server-ydoc's cleanup of the room (after its last client left) is pending:
    it deletes the room itself, and fails if the room is gone by then."""
    cleaner = getattr(room, "cleaner", None)
    return cleaner is not None and not cleaner.done()
