"""Room lifecycle as events: rooms opened and closed, collaborators joined and left.

Each backend tells its :class:`RoomEvents` when a room opens (started, registered
and, for a document room, loaded) and when it closes; :class:`RoomEvents` observes
the awareness of every open room and reports a collaborator joining when an
awareness client first carries a ``user`` and leaving when its state goes. So
joined/left mean the same on both backends: JupyterLab users and agents, as the
room's awareness shows them (the remote backend sees no websocket list, only
awareness). Packs subscribe with ``backend.room_events.subscribe(listener)``
instead of looking at the open rooms again and again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

RoomChange = Literal["opened", "closed", "joined", "left"]


@dataclass(frozen=True)
class RoomEvent:
    """Something happened to a room: it ``opened`` or ``closed``, or a collaborator ``joined`` or ``left`` it.

    ``room`` is the room object (``room.ydoc`` its pycrdt ``Doc``, ``room.awareness``
    its ``pycrdt.Awareness``); ``path`` the document's API path (None for forks and
    JupyterLab's global awareness room). ``client_id`` and ``user`` (the awareness
    state's ``user``: ``username``, ``display_name``...) are set for joined and left.
    """

    change: RoomChange
    room_id: str
    room: Any
    path: str | None
    client_id: int | None = None
    user: dict[str, Any] | None = None


RoomListener = Callable[[RoomEvent], None]


@dataclass
class _Open:
    room: Any
    path: str | None
    subscription: str
    users: dict[int, dict[str, Any]]  # awareness client id -> user, of those reported joined


class RoomEvents:
    """The open rooms of one backend, and who subscribed to hear about them."""

    def __init__(self, path_of_room: Callable[[str], str | None]) -> None:
        self._path_of_room = path_of_room
        self._listeners: list[RoomListener] = []
        self._open: dict[str, _Open] = {}

    def subscribe(self, listener: RoomListener) -> Callable[[], None]:
        """Call ``listener(event)`` for every event from now on; returns the unsubscriber.

        The listener first hears ``opened`` for each room open now, and ``joined`` for
        each collaborator already in it, so it needs no look of its own at the rooms.
        Listeners run synchronously, inside the change that caused the event: schedule
        slow or async work (``asyncio.get_running_loop().call_soon``...).
        """
        self._listeners.append(listener)
        for room_id, entry in list(self._open.items()):
            _deliver(listener, RoomEvent("opened", room_id, entry.room, entry.path))
            for client_id, user in list(entry.users.items()):
                _deliver(listener, RoomEvent("joined", room_id, entry.room, entry.path, client_id, user))

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def is_open(self, room_id: str, room: Any) -> bool:
        entry = self._open.get(room_id)
        return entry is not None and entry.room is room

    def opened(self, room_id: str, room: Any) -> None:
        """A room is open and ready (the backend calls this; a repeat is ignored, a new room under
        the same id first closes the old one)."""
        if self.is_open(room_id, room):
            return
        if room_id in self._open:
            self.closed(room_id)
        subscription = room.awareness.observe(
            lambda topic, payload, rid=room_id, r=room: self._on_awareness(rid, r, topic) if topic == "change" else None
        )
        entry = self._open[room_id] = _Open(room, self._path_of_room(room_id), subscription, {})
        self._emit(RoomEvent("opened", room_id, room, entry.path))
        self._on_awareness(room_id, room, "change")  # collaborators who were there before it was announced

    def closed(self, room_id: str, room: Any = None) -> None:
        """A room closed (``room``, if given, must be the one announced): everyone in it left."""
        entry = self._open.get(room_id)
        if entry is None or (room is not None and entry.room is not room):
            return
        del self._open[room_id]
        try:
            entry.room.awareness.unobserve(entry.subscription)
        except Exception:
            log.debug("could not unobserve the awareness of room %s", room_id, exc_info=True)
        for client_id, user in list(entry.users.items()):
            self._emit(RoomEvent("left", room_id, entry.room, entry.path, client_id, user))
        self._emit(RoomEvent("closed", room_id, entry.room, entry.path))

    def close_all(self) -> None:
        """Every room closes (the server or the connection stops)."""
        for room_id in list(self._open):
            self.closed(room_id)

    def _on_awareness(self, room_id: str, room: Any, _topic: str) -> None:
        entry = self._open.get(room_id)
        if entry is None or entry.room is not room:
            return
        awareness = room.awareness
        present: dict[int, dict[str, Any]] = {}
        for client_id, state in list(awareness.states.items()):
            user = (state or {}).get("user")
            if client_id != awareness.client_id and isinstance(user, dict):
                present[client_id] = user
        for client_id in [c for c in entry.users if c not in present]:
            user = entry.users.pop(client_id)
            self._emit(RoomEvent("left", room_id, room, entry.path, client_id, user))
        for client_id, user in present.items():
            if client_id not in entry.users:
                entry.users[client_id] = user
                self._emit(RoomEvent("joined", room_id, room, entry.path, client_id, user))
            else:
                entry.users[client_id] = user  # renamed or recoloured: the latest, for its left event

    def _emit(self, event: RoomEvent) -> None:
        for listener in list(self._listeners):
            _deliver(listener, event)


def _deliver(listener: RoomListener, event: RoomEvent) -> None:
    try:
        listener(event)
    except Exception:  # one listener's failure must not keep the others (or the room) from working
        log.exception("a room listener failed on %s of %s", event.change, event.room_id)
