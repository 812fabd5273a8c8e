"""A backend in memory, for calling tools in-process in unit tests (:mod:`.in_process`).

:class:`MemoryBackend` implements :class:`~collab_mcp_core.backend_protocol.Backend`
with files in a dict and one room per document holding a real jupyter_ydoc
document (pycrdt) and a real ``pycrdt.Awareness``, so a tool edits exactly what it
edits on a server. A room's :meth:`MemoryRoom.collaborator` is a second pycrdt
document synced with the room's both ways by updates, as a browser's copy is over
the websocket. What it has not: kernels (running code is a tool error saying so),
forks, history (no update store), Jupyter's Authorizer (every identity may do
everything unless a pack's ``authorize`` hook decides), a disk (``save`` writes the
document back into the dict, as the room's save would to the file).
"""

from __future__ import annotations

import json
import posixpath
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pycrdt
from jupyter_ydoc import YNotebook, YUnicode

from .backend import LocalBackend
from .backend_protocol import NOTEBOOK, DocumentKind
from .errors import NotFound, ToolError
from .local_contents import LocalContents
from .paths import ServerPaths
from .remote_backend import NoForks
from .room_events import RoomEvents

if TYPE_CHECKING:
    from .identity import Identity

EMPTY_NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
NO_KERNELS = "There are no kernels in-process (collab_mcp_core.in_process): test code-running tools against a server."


class MemoryContents(LocalContents):
    """Files (API path -> text) and the folders their paths imply (``walk`` and ``create`` are shared)."""

    def __init__(self, files: dict[str, str]) -> None:  # noqa: D107 - no ContentsManager here
        self.files = files

    def _folders(self) -> set[str]:
        folders = {""}
        for path in self.files:
            while path:
                path = posixpath.dirname(path)
                folders.add(path)
        return folders

    async def file_exists(self, api_path: str) -> bool:
        return api_path in self.files

    async def dir_exists(self, api_path: str) -> bool:
        return api_path in self._folders()

    async def list_folder(self, api_path: str) -> list[dict[str, Any]]:
        if api_path not in self._folders():
            raise NotFound(f"No folder at {api_path!r}.")
        entries = {}
        for path in [*self.files, *self._folders()]:
            if path and posixpath.dirname(path) == api_path:
                kind = "file" if path in self.files else "directory"
                if kind == "file" and path.endswith(".ipynb"):
                    kind = "notebook"
                size = len(self.files[path].encode("utf-8")) if path in self.files else None
                entries[path] = {"name": posixpath.basename(path), "path": path, "type": kind, "size": size}
        return sorted(entries.values(), key=lambda e: e["name"])

    async def _create_new(self, api_path: str) -> None:
        """Create the file, once ``create`` checked it does not exist and its folder does."""
        self.files[api_path] = json.dumps(EMPTY_NOTEBOOK) if api_path.endswith(".ipynb") else ""

    async def read_text(self, api_path: str) -> str:
        return self.files[api_path]

    async def read_head(self, api_path: str, size: int) -> bytes:
        return self.files[api_path].encode("utf-8")[:size]


class NoKernels:
    """Kernels are not in memory: listing finds none, running code is a tool error saying so."""

    async def list_sessions(self) -> list[dict[str, Any]]:
        return []

    async def start_session(self, api_path: str, kernel_name: str) -> dict[str, Any]:
        raise ToolError(NO_KERNELS)

    async def list_kernels(self) -> list[dict[str, Any]]:
        return []

    async def kernel_specs(self) -> dict[str, dict[str, Any]]:
        return {}

    async def default_kernel_name(self) -> str:
        return "python3"

    def exists(self, kernel_id: str) -> bool:
        return False

    async def is_alive(self, kernel_id: str) -> bool:
        return False

    def execution_state(self, kernel_id: str) -> str:
        return "dead"

    async def interrupt(self, kernel_id: str) -> None:
        raise ToolError(NO_KERNELS)

    async def restart(self, kernel_id: str) -> None:
        raise ToolError(NO_KERNELS)

    async def connect(self, kernel_id: str, timeout: float) -> Any:
        raise ToolError(NO_KERNELS)

    def disconnect(self, connection: Any) -> None:
        return None

    def on_death(self, kernel_id: str, callback: Callable[[bool], None]) -> Callable[[], None]:
        return lambda: None


class MemoryRoom:
    """A document's room: its live jupyter_ydoc document and awareness."""

    def __init__(self, room_id: str, path: str, kind: DocumentKind, content: str) -> None:
        self.room_id, self.path, self.kind = room_id, path, kind
        self.ydoc = pycrdt.Doc()
        self.awareness = pycrdt.Awareness(self.ydoc)
        self.clients: set[Any] = set()
        self.document = YNotebook(self.ydoc) if kind == NOTEBOOK else YUnicode(self.ydoc)
        self.document.set(json.loads(content or json.dumps(EMPTY_NOTEBOOK)) if kind == NOTEBOOK else content)

    def collaborator(self) -> pycrdt.Doc:
        """A second copy of the document, synced with this room's both ways (a person's browser)."""
        peer = pycrdt.Doc()
        peer.apply_update(self.ydoc.get_update())
        busy = []  # set while one side applies the other's update: do not send it back

        def relay(target: pycrdt.Doc) -> Callable[[Any], None]:
            def send(event: Any) -> None:
                if not busy:
                    busy.append(True)
                    try:
                        target.apply_update(event.update)
                    finally:
                        busy.clear()
            return send

        self.ydoc.observe(relay(peer))
        peer.observe(relay(self.ydoc))
        return peer


class MemoryBackend:
    """Files and live documents in memory (see the module's docstring for what it leaves out)."""

    # Path checks and the collaborator list read only the protocol's own methods: the local backend's code.
    require_file = LocalBackend.require_file
    check_file = LocalBackend.check_file
    create_file = LocalBackend.create_file
    collaborators = LocalBackend.collaborators

    def __init__(self, files: dict[str, str], data_dir: str) -> None:
        self.contents = MemoryContents(files)
        self.kernels = NoKernels()
        self.forks = NoForks("in-process tests (collab_mcp_core.in_process)")
        self.room_events = RoomEvents(self.path_of_room)
        self._data_dir = data_dir
        self.paths = ServerPaths(data_dir, lambda: False)  # an empty folder: no symlink leads out of it
        self._rooms: dict[str, MemoryRoom] = {}
        self._ids: dict[str, str] = {}  # API path -> file id

    @property
    def data_dir(self) -> str:
        return self._data_dir

    def accepts_remote_clients(self) -> bool:
        return False

    def normalize_path(self, path: str) -> str:
        return self.paths.normalize(path)

    def real_path(self, api_path: str) -> str:
        return api_path

    def room_id(self, api_path: str, kind: DocumentKind, *, create: bool = True) -> str | None:
        if api_path not in self._ids and create:
            self._ids[api_path] = uuid.uuid4().hex
        file_id = self._ids.get(api_path)
        return f"{kind[0]}:{kind[1]}:{file_id}" if file_id else None

    def find_room(self, room_id: str | None) -> MemoryRoom | None:
        return self._rooms.get(room_id) if room_id else None

    def room_for(self, api_path: str, kind: DocumentKind) -> MemoryRoom | None:
        return self.find_room(self.room_id(api_path, kind, create=False))

    def rooms(self) -> dict[str, Any]:
        return dict(self._rooms)

    def path_of_room(self, room_id: str) -> str | None:
        file_id = room_id.split(":", 2)[-1]
        return next((path for path, known in self._ids.items() if known == file_id), None)

    async def open_document(self, api_path: str, kind: DocumentKind) -> Any:
        return self.open_room(api_path, kind).document

    def open_room(self, api_path: str, kind: DocumentKind) -> MemoryRoom:
        """The file's room, opened from its text if needed (a test's way in, as a browser opens one)."""
        room = self.room_for(api_path, kind)
        if room is None:
            if api_path not in self.contents.files:
                raise NotFound(f"No file at {api_path!r}.")
            room_id = self.room_id(api_path, kind)
            assert room_id is not None
            room = self._rooms[room_id] = MemoryRoom(room_id, api_path, kind, self.contents.files[api_path])
            self.room_events.opened(room_id, room)
        return room

    async def save(self, api_path: str, kind: DocumentKind) -> None:
        room = self.room_for(api_path, kind)
        if room is not None:
            content = room.document.get()
            self.contents.files[api_path] = json.dumps(content) if kind == NOTEBOOK else content

    def on_room_log(self, listener: Callable[[dict[str, Any]], Awaitable[None]]) -> Callable[[], None]:
        return lambda: None  # no room here reloads from a disk or fails to save

    def update_store_path(self) -> str | None:
        return None

    def overwritten_versions(self, room_id: str | None) -> list[float]:
        return []

    async def flush_updates(self) -> None:
        return None

    async def jupyter_allows(self, identity: Identity, permission: str, path: str | None, handler: Any) -> bool:
        return True  # no Jupyter Authorizer here: packs' authorize hooks still decide
