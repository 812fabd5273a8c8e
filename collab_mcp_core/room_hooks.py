"""The local rooms as they start, register and go: every room of jupyter-server-ydoc passes here.

The websocket server's ``start_room`` sees every room (opened by a browser, an
agent or the fork API) before it loads, ``add_room`` registers it under its id,
``delete_room`` removes it (whoever deletes it: jupyter-server-ydoc's cleanup after the
last collaborator left, collab-mcp's idle closing, a merged or discarded fork) and
``serve`` serves each room websocket. :func:`hook_rooms` wraps those four so that a room
websocket has TCP_NODELAY (:func:`_without_nagle`), a document room is made durable
before it loads (:mod:`.durable_rooms`), a document room with unsaved changes is saved
before it is deleted (its pending save would be cancelled), a deleted room's update store is stopped
(:func:`~collab_mcp_core.update_store.stop_store`), forks are stored and forgotten
(:mod:`.fork_store`), and the backend's room events (:mod:`.room_events`) hear
``opened`` once a room is started, registered and loaded, and ``closed`` once it is deleted.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from typing import TYPE_CHECKING, Any

from .fork_store import fork_table
from .room_saving import save_rooms_now
from .update_store import stop_store

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .durable_rooms import DurableRooms
    from .fork_store import ForkStore
    from .room_events import RoomEvents


def hook_rooms(server: Any, durable: DurableRooms, forks: ForkStore, events: RoomEvents) -> None:
    """Wrap the websocket server's ``start_room``, ``add_room``, ``delete_room`` and ``serve`` (call once)."""
    from jupyter_server_ydoc.rooms import DocumentRoom

    start_room, add_room, delete_room = server.start_room, server.add_room, server.delete_room
    announcing: weakref.WeakSet[Any] = weakref.WeakSet()  # document rooms whose first load is watched

    def announce(room: Any) -> None:
        """Tell the room events about a room once it is registered, started and (a document) loaded."""
        room_id = next((rid for rid, r in server.rooms.items() if r is room), None)
        if room_id is None or not room.started.is_set() or (isinstance(room, DocumentRoom) and not room.ready):
            return
        events.opened(room_id, room)

    def announce_when_loaded(room: Any) -> None:
        if room in announcing:
            return
        announcing.add(room)
        load = room.initialize

        async def initialize() -> None:
            await load()
            announce(room)

        room.initialize = initialize  # both openers (a browser's handler, get_document) call it

    async def starting(room: Any) -> None:
        if isinstance(room, DocumentRoom):
            durable.adopt(room)
            announce_when_loaded(room)
        else:
            fork_id = next((fid for fid in fork_table() if server.rooms.get(fid) is room), None)
            if fork_id is not None:
                forks.started(fork_id, room)
        await start_room(room)
        announce(room)

    def adding(path: str, room: Any) -> None:
        add_room(path, room)
        announce(room)

    async def deleting(*, name: str | None = None, room: Any = None) -> None:
        if name is None and room is not None:
            name = next((rid for rid, r in server.rooms.items() if r is room), None)
        gone = server.rooms.get(name) if name is not None else room
        if isinstance(gone, DocumentRoom):
            # Stopping a room cancels its pending save (jupyter-server-ydoc's cleanup, a
            # minute after the last person left, does not save first): an agent's edit made
            # within document_save_delay of it would never reach the disk.
            await save_rooms_now([gone], durable.changed, log)
        await (delete_room(name=name) if name is not None else delete_room(room=room))
        # Stopping the room leaves its store running (a task, a database connection, a worker
        # thread that keeps the process from exiting). Stop it before anyone hears the room is
        # gone: a room opened again reads its history from the same database.
        await stop_store(getattr(gone, "ystore", None))
        if name is not None:
            events.closed(name, gone)
            if forks.is_fork(name):
                forks.deleted(name)  # merged or discarded: its stored data goes too

    server.start_room = starting
    server.add_room = adding
    server.delete_room = deleting
    server.serve = _without_nagle(server.serve)
    for room in list(server.rooms.values()):  # rooms that started before the hooks (none, usually)
        announce(room)


def _without_nagle(serve: Any) -> Any:
    """``serve`` with TCP_NODELAY set on each room websocket first.

    jupyter-server-ydoc's tornado handler leaves Nagle's algorithm on, so a frame written
    while the previous one is unacknowledged (a document update right behind an awareness
    update) waits for the peer's delayed ACK: about 40 ms. Room frames are small, and
    latency is what matters for them.
    """

    async def serving(websocket: Any) -> None:
        set_nodelay = getattr(websocket, "set_nodelay", None)  # tornado's WebSocketHandler
        if set_nodelay is not None:
            with contextlib.suppress(Exception):  # closed already: serve() sees that itself
                set_nodelay(True)
        await serve(websocket)

    return serving
