"""Watching open rooms, so packs can tell subscribers when a document changed.

Rooms come and go (a browser opens one, jupyter-server-ydoc deletes it a minute
after the last client leaves, the host closes idle ones agents opened), so a
watcher looks at the open rooms a few times a second, observes each new one's
shared document (``observe_deep``: ``YNotebook.observe`` would replace the
room's own observer and stop autosave) and, once changes have been quiet for
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

log = logging.getLogger(__name__)

SCAN_INTERVAL = 0.25  # seconds between looks for rooms opened or closed


class RoomWatcher:
    """Debounced change notifications for the open rooms whose id starts with ``prefix``.

    ``target(room)`` gives the shared type to observe (None: not yet, look again
    later). ``on_scan(rooms)``, if given, sees every open room at each look.
    """

    def __init__(
        self,
        host: Host,
        *,
        prefix: str,
        scheme: str,
        target: Callable[[Any], Any],
        debounce: float,
        on_scan: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.host, self.prefix, self.scheme = host, prefix, scheme
        self.target, self.debounce, self.on_scan = target, debounce, on_scan
        self.watched: dict[str, tuple[Any, Any, Any]] = {}  # room id -> (ydoc, observed type, subscription)
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.pending: set[asyncio.Task] = set()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        """Start watching; the backend scans again whenever it opens a room, and the host
        stops the watcher when the server stops."""
        self.host.backend.room_watchers.append(self)
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.host.backend.room_watchers.remove(self)
        for timer in self.timers.values():
            timer.cancel()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        for room_id in list(self.watched):
            self._forget(room_id)

    async def _run(self) -> None:
        while True:
            try:
                self.scan()
            except Exception:
                log.exception("the %s room watcher could not scan rooms", self.scheme)
            await asyncio.sleep(SCAN_INTERVAL)

    def scan(self) -> None:
        """Forget closed or replaced rooms and observe new ones (call it after opening a room)."""
        rooms = self.host.backend.rooms()
        for room_id in list(self.watched):
            room = rooms.get(room_id)
            if room is None or room.ydoc is not self.watched[room_id][0]:
                self._forget(room_id)
        if self.on_scan is not None:
            self.on_scan(rooms)
        for room_id, room in list(rooms.items()):
            if room_id.startswith(self.prefix) and room_id not in self.watched:
                observed = self.target(room)
                if observed is not None:
                    subscription = observed.observe_deep(lambda *_event, rid=room_id: self._changed(rid))
                    self.watched[room_id] = (room.ydoc, observed, subscription)

    def notice(self, room_id: str) -> None:
        """Scan now if ``room_id`` is a room of this watcher's kind that it does not observe yet."""
        if room_id.startswith(self.prefix) and room_id not in self.watched:
            self.scan()

    def _forget(self, room_id: str) -> None:
        _ydoc, observed, subscription = self.watched.pop(room_id)
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
