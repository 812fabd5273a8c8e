"""The local backend: the Jupyter server this extension runs in, behind the backend protocol.

:class:`LocalBackend` implements :class:`~collab_mcp_core.backend_protocol.Backend`:
paths, live shared documents and rooms here; contents, kernels and forks in their
own modules (``local_contents``, ``local_kernels``, ``local_forks``), and what
happens to rooms in theirs: their events (``room_events``, fed by ``room_hooks``),
saving (``room_saving``), where their history goes (``store_location``) and closing
idle ones (``idle_rooms``). Packs never reach into Jupyter internals themselves. Everything that edits a
collaborated file goes through the live document of its room
(``get_document(copy=False, create=True)``), never through the disk or the
ContentsManager: a write behind the room makes it reload from disk and lose
people's edits.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import posixpath
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import metrics
from .backend_protocol import NOTEBOOK, TEXT_FILE, DocumentKind
from .durable_rooms import DurableRooms
from .errors import NotFound, ToolError
from .file_records import RECORDS_FILE, FileRecords
from .fork_store import FORKS_FILE, ForkStore
from .gateway_kernels import GatewayKernels, gateway_enabled
from .idle_rooms import IdleRooms
from .jupyter_authorizer import jupyter_allows
from .local_contents import LocalContents
from .local_forks import LocalForks
from .local_kernels import LocalKernels
from .paths import ServerPaths
from .room_events import RoomEvents
from .room_hooks import hook_rooms
from .room_saving import save_room, save_rooms_now
from .store_location import STATE_FOLDER, bind_update_store, update_store_path

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp
    from jupyter_ydoc.ybasedoc import YBaseDoc

    from .identity import Identity

__all__ = ["NOTEBOOK", "TEXT_FILE", "DocumentKind", "LocalBackend"]  # the kinds stay importable from here

ROOM_READY_TIMEOUT = 5.0  # seconds to wait for a new room to start observing its document
COLLABORATION_EVENTS = "https://schema.jupyter.org/jupyter_collaboration/session/v1"


class LocalBackend:
    """Documents and rooms of the Jupyter server this extension runs in."""

    def __init__(self, serverapp: ServerApp) -> None:
        self.serverapp = serverapp
        self.room_events = RoomEvents(self.path_of_room)
        self.durable: DurableRooms | None = None  # set by keep_rooms_durable() when the server starts
        self.fork_store: ForkStore | None = None  # likewise
        self.idle_rooms = IdleRooms(lambda: self.ydoc, lambda: self.serverapp.log)
        self.contents = LocalContents(serverapp.contents_manager, self.os_path)
        # With --gateway-url the kernels live on a Kernel/Enterprise Gateway: same protocol, other client.
        self.kernels = GatewayKernels(serverapp) if gateway_enabled(serverapp) else LocalKernels(serverapp)
        self.forks = LocalForks(lambda: self.ydoc.ywebsocket_server, getattr(serverapp, "event_logger", None))

    # -- server services -----------------------------------------------------------------

    @property
    def settings(self) -> dict[str, Any]:
        return self.serverapp.web_app.settings

    @property
    def ydoc(self) -> Any:
        """The jupyter-server-ydoc extension (``YDocExtension``)."""
        ext = self.settings.get("jupyter_server_ydoc")
        if ext is None:
            raise ToolError("Real-time collaboration is not enabled on this server (jupyter-server-ydoc is missing).")
        return ext

    @property
    def contents_manager(self) -> Any:
        return self.serverapp.contents_manager

    @property
    def data_dir(self) -> str:
        """The server's data directory (packs keep their own state under it)."""
        return str(self.serverapp.data_dir)

    def accepts_remote_clients(self) -> bool:
        """Whether the server answers clients on other machines (``ServerApp.allow_remote_access``)."""
        return bool(self.serverapp.allow_remote_access)

    # -- paths ---------------------------------------------------------------------------

    @functools.cached_property
    def paths(self) -> ServerPaths:
        cm = self.contents_manager
        return ServerPaths(cm.root_dir, lambda: bool(getattr(cm, "allow_hidden", False)))

    def normalize_path(self, path: str) -> str:
        """A clean API path inside the root, or an InvalidArgument saying why not (see :mod:`.paths`)."""
        return self.paths.normalize(path)

    def real_path(self, api_path: str) -> str:
        """The API path of what a normalized ``api_path`` names once symlinks are followed."""
        return self.paths.real_path(api_path)

    def os_path(self, api_path: str) -> str:
        return self.paths.os_path(api_path)

    async def require_file(self, path: str, *, suffixes: tuple[str, ...] | None = None, kind: str = "file") -> str:
        """Normalize ``path`` and check it names an existing file (with one of ``suffixes``)."""
        return await self.check_file(self.normalize_path(path), suffixes=suffixes, kind=kind, given=path)

    async def check_file(
        self, api_path: str, *, suffixes: tuple[str, ...] | None = None, kind: str = "file", given: str | None = None
    ) -> str:
        """Check that an already normalized ``api_path`` (a tool's ``ctx.path``) names an existing file."""
        path = api_path if given is None else given  # as the caller wrote it, for the messages
        if not api_path:
            raise ToolError(f"Path {path!r} is the root folder; give the path of a {kind}.")
        if suffixes and not api_path.endswith(suffixes):
            raise ToolError(f"{path!r} is not a {kind} (expected a name ending in {', '.join(suffixes)}).")
        if not await self.contents.file_exists(api_path):
            folder = posixpath.dirname(api_path)
            hint = f" in {folder!r}" if folder else ""
            raise NotFound(f"No {kind} at {path!r}{hint}. List the folder to see what exists.")
        return api_path

    async def create_file(self, api_path: str) -> None:
        """Create an empty file (an empty notebook for ``.ipynb``); never overwrite one."""
        await self.contents.create(api_path)

    # -- rooms and documents -------------------------------------------------------------

    def file_id(self, api_path: str, *, create: bool = True) -> str | None:
        manager = self.settings["file_id_manager"]
        return manager.index(api_path) if create else manager.get_id(api_path)

    def room_id(self, api_path: str, kind: tuple[str, str], *, create: bool = True) -> str | None:
        file_id = self.file_id(api_path, create=create)
        return f"{kind[0]}:{kind[1]}:{file_id}" if file_id else None

    def find_room(self, room_id: str | None) -> Any | None:
        """The open room with this id, or None. Never opens one."""
        if not room_id:
            return None
        server = self.ydoc.ywebsocket_server
        return server.rooms.get(room_id) if server.room_exists(room_id) else None

    def rooms(self) -> dict[str, Any]:
        """Every open room by id: documents, forks, the global awareness room. Opens none."""
        ext = self.settings.get("jupyter_server_ydoc")
        return dict(ext.ywebsocket_server.rooms) if ext is not None else {}

    def path_of_room(self, room_id: str) -> str | None:
        """The API path of a document room's file (``format:type:file_id``), or None."""
        parts = room_id.split(":", 2)
        if len(parts) != 3 or parts[1] not in ("notebook", "file"):
            return None  # global awareness, forks and other transient rooms
        path = self.settings["file_id_manager"].get_path(parts[2])
        return path.lstrip("/") if path else None

    def room_for(self, api_path: str, kind: tuple[str, str]) -> Any | None:
        """The open room of a file, or None (does not open rooms or index new files)."""
        return self.find_room(self.room_id(api_path, kind, create=False))

    async def open_document(self, api_path: str, kind: tuple[str, str]) -> YBaseDoc:
        """The LIVE shared document of the file's room, opening the room if needed.

        Fetch it again for each operation: rooms can be cleaned up, and a cached
        document of a deleted room reaches nobody.
        """
        room = self.room_for(api_path, kind)
        if _serving(room):
            # The common case, an open room: its live document, without get_document's
            # file-id write transaction and room lock (a tenth of an edit's time in the tool).
            doc = room._document  # noqa: SLF001 - what get_document(copy=False) returns
        else:
            doc = await self._open_room(api_path, kind)
            room = self.room_for(api_path, kind)
        if room is not None:
            self.idle_rooms.used(room.room_id)
        return doc

    async def _open_room(self, api_path: str, kind: tuple[str, str]) -> YBaseDoc:
        """Open (or start) the file's room and wait until edits to its document reach everyone."""
        doc = await self.ydoc.get_document(
            path=api_path, content_type=kind[1], file_format=kind[0], copy=False, create=True
        )
        if doc is None:
            raise ToolError(f"Could not open a collaboration room for {api_path!r}.")
        metrics.AGENT_ROOMS_OPENED.inc()
        room = self.room_for(api_path, kind)
        if room is not None:
            if getattr(room, "_document_load_progressively", False):
                await room._document_progressively_loaded  # noqa: SLF001 - wait until the content is in
            # A room made by get_document(create=True) subscribes to its document in a task
            # that has not run yet: an edit made before that reaches neither the people in
            # the room nor the update store (history). Wait until the room observes it.
            observed = getattr(room, "ydoc_observed", None)
            if observed is not None and not observed.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(observed.wait(), ROOM_READY_TIMEOUT)
        return doc

    def on_room_log(self, listener: Callable[[dict[str, Any]], Awaitable[None]]) -> Callable[[], None]:
        """Call ``listener(data)`` for what the rooms log on Jupyter's event bus (jupyter-server-ydoc's
        session events: ``path``, ``action`` such as ``overwrite``, ``level``, ``msg``); returns the unsubscriber."""
        event_logger = getattr(self.serverapp, "event_logger", None)
        if event_logger is None:
            return lambda: None

        async def heard(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
            await listener(data)  # jupyter_events calls listeners by keyword (logger=, schema_id=, data=)

        event_logger.add_listener(schema_id=COLLABORATION_EVENTS, listener=heard)
        return lambda: event_logger.remove_listener(schema_id=COLLABORATION_EVENTS, listener=heard)

    def collaborators(self, room: Any) -> list[dict[str, Any]]:
        """The users in a room's awareness (humans in JupyterLab, and agents)."""
        people = []
        if room is None:
            return people
        for client_id, state in room.awareness.states.items():
            user = (state or {}).get("user")
            if user:
                people.append({"client_id": client_id, **user})
        return people

    async def save(self, api_path: str, kind: tuple[str, str]) -> None:
        """Save the room's document to disk now, and wait until it is written (:mod:`.room_saving`)."""
        room = self.room_for(api_path, kind)
        if room is not None:
            await save_room(room, api_path)

    async def save_open_rooms(self) -> None:
        """Write every open room's changed document to disk now (the server is stopping)."""
        ext = self.settings.get("jupyter_server_ydoc")
        if ext is not None:
            await save_rooms_now(ext.ywebsocket_server.rooms.values(), self._needs_save, self.serverapp.log)

    def _needs_save(self, room: Any) -> bool:
        """Whether a room's document may differ from its file (always, before durability is set up)."""
        return self.durable is None or self.durable.changed(room)

    def bind_update_store(self) -> str | None:
        """Keep every room's history in one store under the server's data directory
        (:mod:`.store_location`). Returns the store's database path."""
        ext = self.settings.get("jupyter_server_ydoc")
        if ext is None:
            return None
        bind_update_store(ext, str(self.serverapp.data_dir))
        return self.update_store_path()

    def update_store_path(self) -> str | None:
        """The database file new rooms keep their history in (None if not SQLite)."""
        ext = self.settings.get("jupyter_server_ydoc")
        return update_store_path(ext) if ext is not None else None

    # -- durability ------------------------------------------------------------------------

    async def keep_rooms_durable(self) -> None:
        """See every room as it starts and as it is deleted, so that acknowledged edits survive
        a crash and a restart (:mod:`.durable_rooms`) and forks survive a restart
        (:mod:`.fork_store`, whose stored forks start again now). Call once, when the server starts."""
        if self.durable is not None or self.settings.get("jupyter_server_ydoc") is None:
            return
        folder = os.path.join(self.serverapp.data_dir, STATE_FOLDER)
        os.makedirs(folder, exist_ok=True)
        records = None
        if self.update_store_path() is not None:  # a persistent store: worth recording what it holds
            records = FileRecords(os.path.join(folder, RECORDS_FILE))
        self.fork_store = ForkStore(os.path.join(folder, FORKS_FILE))
        self.durable = DurableRooms(
            self.contents_manager, records, lambda: self.ydoc.ystore_class, on_loaded=self.fork_store.root_loaded
        )
        hook_rooms(self.ydoc.ywebsocket_server, self.durable, self.fork_store, self.room_events)
        server = self.ydoc.ywebsocket_server
        if not server.started.is_set():  # as jupyter-server-ydoc's get_document starts it
            asyncio.create_task(server.start())
            await server.started.wait()
        restored = await self.fork_store.restore(server)
        if restored:
            self.serverapp.log.info("collab-mcp restored %d fork(s) from %s", len(restored), self.fork_store.db_path)

    def overwritten_versions(self, room_id: str | None) -> list[float]:
        """Store timestamps of versions of the room's document whose edits never reached the disk:
        the file had changed on disk, and was loaded over them (they stay restorable)."""
        records = self.durable.records if self.durable is not None else None
        if records is None or not room_id:
            return []
        return [entry.version for entry in records.overwritten(room_id)]

    async def flush_updates(self) -> None:
        """Wait until every edit made so far is committed to the update store (a tool's edit
        survives a crash once this returns)."""
        ext = self.settings.get("jupyter_server_ydoc")
        if self.durable is not None and ext is not None:
            await self.durable.flush(ext.ywebsocket_server.rooms.values())

    async def close_idle_rooms(self, idle_seconds: float) -> list[str]:
        """Save and close the rooms agents opened and nobody used for ``idle_seconds`` (:mod:`.idle_rooms`)."""
        return await self.idle_rooms.close_idle(idle_seconds)

    # -- authorization -------------------------------------------------------------------

    async def jupyter_allows(self, identity: Identity, permission: str, path: str | None, handler: Any) -> bool:
        """Ask Jupyter's Authorizer (the default when no pack decides)."""
        return await jupyter_allows(self.settings.get("authorizer"), identity, permission, handler)


def _serving(room: Any) -> bool:
    """Whether a room is started, loaded and observing its document (ready for edits)."""
    if room is None or getattr(room, "_document", None) is None or not room.started.is_set():
        return False
    observed = getattr(room, "ydoc_observed", None)
    if observed is None or not observed.is_set():
        return False
    loading = getattr(room, "_document_load_progressively", False)
    return not (loading and not room._document_progressively_loaded.done())  # noqa: SLF001
