"""Forks of live documents in jupyter-server-ydoc (the backend's forks).

jupyter-server-ydoc has a REST fork API (``/api/collaboration/fork/``) but no
Python one. A fork there is a plain ``YRoom`` in the websocket server, keyed by
its fork id and registered in the handlers' ``FORK_ROOMS`` table; forks made
here are registered the same way (and announced on Jupyter's event bus as the
REST API does), so JupyterLab's fork listing shows them and forks JupyterLab
made can be used too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt.websocket import YRoom

from .fork_store import fork_table


class LocalForks:
    """The :class:`~collab_mcp_core.backend_protocol.Forks` of the server this extension runs in."""

    def __init__(self, websocket_server: Callable[[], Any], event_logger: Any) -> None:
        self._server = websocket_server  # the ydoc extension's websocket server, looked up when used
        self._event_logger = event_logger

    def table(self) -> dict[str, dict[str, Any]]:
        return fork_table()

    def room_document(self, fork_id: str) -> Any | None:
        room = self._server().rooms.get(fork_id)
        return room.ydoc if room is not None else None

    async def open(self, fork_id: str, ydoc: Any, info: dict[str, Any], username: str) -> None:
        self.table()[fork_id] = info
        server = self._server()
        room = YRoom(ydoc=ydoc)
        server.rooms[fork_id] = room
        await server.start_room(room)
        self._announce(fork_id, info, "create", username)

    async def close(self, fork_id: str, username: str) -> None:
        info = self.table().pop(fork_id, None)
        server = self._server()
        if fork_id in server.rooms:
            await server.delete_room(name=fork_id)
        if info is not None:
            self._announce(fork_id, info, "delete", username)

    def _announce(self, fork_id: str, info: dict[str, Any], action: str, username: str) -> None:
        """Tell Jupyter's event bus, as the REST fork API does, so JupyterLab listeners see agent forks."""
        if self._event_logger is None:
            return
        from jupyter_server_ydoc.utils import JUPYTER_COLLABORATION_FORK_EVENTS_URI

        data = {"username": username, "fork_roomid": fork_id, "fork_info": info, "action": action}
        self._event_logger.emit(schema_id=JUPYTER_COLLABORATION_FORK_EVENTS_URI, data=data)
