"""The remote backend: a Jupyter server elsewhere, behind the backend protocol.

:class:`RemoteBackend` implements :class:`~collab_mcp_core.backend_protocol.Backend`
over Jupyter's public interfaces, so the packs run unchanged outside the server
(``collab-mcp connect URL --mode remote``):

- contents: the contents REST API (:mod:`.remote_contents`), for listing, reading and
  creating new files; never to write a collaborated file;
- documents: each file's collaboration room, joined over its websocket
  (:mod:`.remote_room`): the agent's copy is a participant of the room, so people in
  JupyterLab see its edits live, and the room saves the file as it does for them;
- awareness: the same websocket, so the agent's presence shows in JupyterLab natively;
- kernels: the sessions and kernels REST API and the kernel websocket (:mod:`.remote_kernels`).

What the server's disk holds for the room (its update store, so document history)
and its fork rooms are not reachable from outside: :data:`UNAVAILABLE_TOOLS` are
not offered in remote mode.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx2

from .backend import LocalBackend
from .backend_protocol import DocumentKind
from .connect import Target
from .errors import ToolError
from .paths import ServerPaths
from .remote_contents import RemoteContents
from .remote_kernels import RemoteKernels
from .remote_room import RemoteRoom
from .room_events import RoomEvents

if TYPE_CHECKING:
    from jupyter_ydoc.ybasedoc import YBaseDoc

    from .identity import Identity

SAVE_TIMEOUT = 10.0

#: Tools that need what only the server itself can reach, and why: not offered in remote mode.
UNAVAILABLE_TOOLS = {
    "get_document_history": "document history lives in the server's update store, which is not reachable remotely",
    "restore_document_version": "document history lives in the server's update store, which is not reachable remotely",
    "fork_document": "forks are rooms registered inside the server; its REST API does not serve them to a remote agent",
    "list_document_forks": "forks are rooms registered inside the server",
    "merge_document_fork": "forks are rooms registered inside the server",
    "discard_document_fork": "forks are rooms registered inside the server",
}

#: Hooks remote mode never calls, and why (``collab-mcp packs`` names the packs that implement them).
UNUSED_HOOKS = {
    "identify_request": "remote mode has one caller: over stdio the owner of the server token, over HTTP whoever "
                        "holds the token collab-mcp connect printed; no JWT or other identity is accepted there, "
                        "so JWT scopes do not apply (they do where collab-mcp runs in the server)",
}


class NoForks:
    """Forks are registered inside the server: a backend outside it has none (their tools are not offered)."""

    def __init__(self, where: str = "remote mode (collab-mcp connect without collab-mcp on the server)") -> None:
        self.where = where

    def table(self) -> dict[str, dict[str, Any]]:
        return {}

    def room_document(self, fork_id: str) -> Any | None:
        return None

    async def open(self, fork_id: str, ydoc: Any, info: dict[str, Any], username: str) -> None:
        raise ToolError(f"Forks are not available in {self.where}.")

    async def close(self, fork_id: str, username: str) -> None:
        raise ToolError(f"Forks are not available in {self.where}.")


class RemoteBackend:
    """Documents, rooms and kernels of a Jupyter server reached over HTTP and websockets."""

    # Path checks and the collaborator list read only the protocol's own
    # methods and the rooms' awareness: the same code as the local backend's.
    require_file = LocalBackend.require_file
    check_file = LocalBackend.check_file
    create_file = LocalBackend.create_file
    collaborators = LocalBackend.collaborators

    def __init__(self, target: Target, data_dir: str) -> None:
        self.target = target
        self.http = target.http_client(timeout=httpx2.Timeout(30.0))
        self.contents = RemoteContents(target, self.http)
        self.kernels = RemoteKernels(target, self.http)
        self.forks = NoForks()
        self.room_events = RoomEvents(self.path_of_room)
        self._data_dir = data_dir
        # Nothing of the remote root is on this disk, so no symlink can lead out of it here (the
        # server's contents manager refuses those itself): an empty local folder stands for the root.
        empty_root = os.path.join(data_dir, "remote-root")
        os.makedirs(empty_root, exist_ok=True)
        self.paths = ServerPaths(empty_root, lambda: False)
        self._rooms: dict[str, RemoteRoom] = {}  # room id -> room
        self._room_ids: dict[tuple[str, DocumentKind], str] = {}
        self._opening: dict[tuple[str, DocumentKind], asyncio.Task[RemoteRoom]] = {}
        self._used: dict[str, float] = {}

    async def close(self) -> None:
        self.room_events.close_all()
        for room in list(self._rooms.values()):
            await room.stop()
        await self.http.aclose()

    @property
    def data_dir(self) -> str:
        return self._data_dir

    def accepts_remote_clients(self) -> bool:
        return False  # connect serves this machine (stdio, or HTTP on 127.0.0.1 by default)

    # -- paths ---------------------------------------------------------------------------

    def normalize_path(self, path: str) -> str:
        return self.paths.normalize(path)

    def real_path(self, api_path: str) -> str:
        return api_path  # symlinks are the server's to follow (and to refuse out of its root)

    def os_path(self, api_path: str) -> str:
        raise ToolError("The files of a remote server are not on this machine's disk.")

    # -- rooms and documents -------------------------------------------------------------

    def room_id(self, api_path: str, kind: DocumentKind, *, create: bool = True) -> str | None:
        # Known once the room was joined: the file id comes from the server's collaboration session.
        return self._room_ids.get((api_path, kind))

    def find_room(self, room_id: str | None) -> RemoteRoom | None:
        return self._rooms.get(room_id) if room_id else None

    def room_for(self, api_path: str, kind: DocumentKind) -> RemoteRoom | None:
        return self.find_room(self.room_id(api_path, kind))

    def rooms(self) -> dict[str, Any]:
        """The rooms this agent joined (the server lists no rooms to a client)."""
        return dict(self._rooms)

    def path_of_room(self, room_id: str) -> str | None:
        room = self._rooms.get(room_id)
        return room.path if room is not None else None

    async def open_document(self, api_path: str, kind: DocumentKind) -> YBaseDoc:
        room = await self._join(api_path, kind)
        await room.wait_synced()
        self._used[room.room_id or ""] = time.monotonic()
        return room.document

    async def _join(self, api_path: str, kind: DocumentKind) -> RemoteRoom:
        room = self.room_for(api_path, kind)
        if room is not None:
            return room
        key = (api_path, kind)
        if key not in self._opening:  # two calls at once join the room once
            self._opening[key] = asyncio.ensure_future(self._start_room(api_path, kind))
        try:
            return await asyncio.shield(self._opening[key])
        finally:
            if self._opening.get(key) is not None and self._opening[key].done():
                self._opening.pop(key, None)

    async def _start_room(self, api_path: str, kind: DocumentKind) -> RemoteRoom:
        room = RemoteRoom(self.target, api_path, kind, self.http)
        await room.start()
        assert room.room_id is not None
        self._rooms[room.room_id] = room
        self._room_ids[(api_path, kind)] = room.room_id
        self.room_events.opened(room.room_id, room)  # joined and left come from the room's awareness
        return room

    async def save(self, api_path: str, kind: DocumentKind) -> None:
        room = self.room_for(api_path, kind)
        if room is None:
            return
        deadline = time.monotonic() + SAVE_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if await room.save(max(0.1, deadline - time.monotonic())) == "success":
                    return
            except TimeoutError:
                break
            await asyncio.sleep(0.05)  # a save was running (skipped) or failed: ask again
        raise ToolError(f"The server did not save {api_path!r} within {SAVE_TIMEOUT:g} s (the room saves by itself "
                        "once edits pause; the file may not be writable).")

    # -- what stays on the server ----------------------------------------------------------

    def update_store_path(self) -> str | None:
        return None

    def on_room_log(self, listener: Callable[[dict[str, Any]], Awaitable[None]]) -> Callable[[], None]:
        return lambda: None  # the rooms' log is the server's event bus, which a client does not hear

    def overwritten_versions(self, room_id: str | None) -> list[float]:
        return []

    async def flush_updates(self) -> None:
        """Nothing to wait for: a remote room writes each edit to its websocket as it commits (the
        server's room then stores it)."""

    async def jupyter_allows(self, identity: Identity, permission: str, path: str | None, handler: Any) -> bool:
        return True  # the server authorizes every request the token makes: it has the last word
