"""Watching open rooms, so packs can tell subscribers when a document changed.

Rooms come and go (a browser opens one, jupyter-server-ydoc deletes it a minute
after the last client leaves, the host closes idle ones agents opened): a watcher
hears of them from the backend's room events (:mod:`.room_events`), observes each
new room's shared document (``observe_deep``: ``YNotebook.observe`` would replace
the room's own observer and stop autosave) and, once changes have been quiet for
``debounce`` seconds, calls ``host.resource_updated("<scheme>://<path>")``,
whoever made them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .host import Host
    from .room_events import RoomEvent

log = logging.getLogger(__name__)


class RoomWatcher:
    """Debounced change notifications for the open rooms whose id starts with ``prefix``.

    ``target(room)`` gives the shared type to observe (None: nothing to observe in
    that room). ``on_room(event)``, if given, hears every room event too.
    """

    def __init__(
        self,
        host: Host,
        *,
        prefix: str,
        scheme: str,
        target: Callable[[Any], Any],
        debounce: float,
        on_room: Callable[[RoomEvent], None] | None = None,
    ) -> None:
        self.host, self.prefix, self.scheme = host, prefix, scheme
        self.target, self.debounce, self.on_room = target, debounce, on_room
        self.watched: dict[str, tuple[Any, Any, Any]] = {}  # room id -> (room, observed type, subscription)
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.pending: set[asyncio.Task] = set()
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Start watching (the backend closes every room for its listeners when the server stops)."""
        self._unsubscribe = self.host.backend.room_events.subscribe(self._on_room)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for timer in self.timers.values():
            timer.cancel()
        self.timers.clear()
        for room_id in list(self.watched):
            self._forget(room_id)

    def _on_room(self, event: RoomEvent) -> None:
        if self.on_room is not None:
            self.on_room(event)
        if not event.room_id.startswith(self.prefix):
            return
        if event.change == "opened":
            if event.room_id in self.watched:
                self._forget(event.room_id)
            observed = self.target(event.room)
            if observed is not None:
                subscription = observed.observe_deep(lambda *_event, rid=event.room_id: self._changed(rid))
                self.watched[event.room_id] = (event.room, observed, subscription)
        elif event.change == "closed" and event.room_id in self.watched and self.watched[event.room_id][0] is event.room:
            self._forget(event.room_id)

    def _forget(self, room_id: str) -> None:
        _room, observed, subscription = self.watched.pop(room_id)
        with contextlib.suppress(Exception):
            observed.unobserve(subscription)

    def _changed(self, room_id: str) -> None:
        # Called inside the transaction that made the change: only (re)arm a timer here.
        timer = self.timers.pop(room_id, None)
        if timer is not None:
            timer.cancel()
        self.timers[room_id] = asyncio.get_running_loop().call_later(self.debounce, self._fire, room_id)

    def _fire(self, room_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._notify(room_id))
        self.pending.add(task)  # a reference, so the task is not collected before it runs
        task.add_done_callback(self.pending.discard)

    async def _notify(self, room_id: str) -> None:
        self.timers.pop(room_id, None)
        path = self.host.backend.path_of_room(room_id)
        if path:
            await self.host.resource_updated(f"{self.scheme}://{path}")
