"""The local backend: the Jupyter server this extension runs in, behind the backend protocol.

:class:`LocalBackend` implements :class:`~collab_mcp_core.backend_protocol.Backend`:
paths, live shared documents, rooms, saving and the update store here; contents,
kernels and forks in their own modules (``local_contents``, ``local_kernels``,
``local_forks``). Packs never reach into Jupyter internals themselves. Everything that edits a
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
import time
from typing import TYPE_CHECKING, Any

from . import metrics
from .durable_rooms import DurableRooms
from .errors import NotFound, ToolError
from .file_records import RECORDS_FILE, FileRecords
from .fork_store import FORKS_FILE, ForkStore, fork_table
from .backend_protocol import NOTEBOOK, TEXT_FILE, DocumentKind
from .local_contents import LocalContents
from .local_forks import LocalForks
from .gateway_kernels import GatewayKernels, gateway_enabled
from .local_kernels import LocalKernels
from .jupyter_authorizer import jupyter_allows
from .paths import ServerPaths
from .update_store import BatchedWrites

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp
    from jupyter_ydoc.ybasedoc import YBaseDoc

    from .identity import Identity

__all__ = ["NOTEBOOK", "TEXT_FILE", "DocumentKind", "LocalBackend"]  # the kinds stay importable from here

ROOM_READY_TIMEOUT = 5.0  # seconds to wait for a new room to start observing its document
SAVE_ON_STOP_TIMEOUT = 5.0
SAVE_TIMEOUT = 10.0  # seconds save() keeps trying while newer changes cancel the room's saves
STATE_FOLDER = "collab_mcp"  # under the server's data directory: the update store, file records, forks
STORE_FILE = os.path.join(STATE_FOLDER, "jupyter_ystore.db")


class LocalBackend:
    """Documents and rooms of the Jupyter server this extension runs in."""

    def __init__(self, serverapp: ServerApp) -> None:
        self.serverapp = serverapp
        # Rooms agents used, with when they last did (monotonic seconds): rooms
        # opened with create=True are never cleaned up by jupyter-server-ydoc.
        self._agent_rooms: dict[str, float] = {}
        self.room_watchers: list[Any] = []  # collab_mcp_core.watch.RoomWatcher instances
        self.durable: DurableRooms | None = None  # set by keep_rooms_durable() when the server starts
        self.fork_store: ForkStore | None = None  # likewise
        metrics.count_agent_rooms(lambda: len(self._agent_rooms))
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
            self._agent_rooms[room.room_id] = time.monotonic()
            for watcher in self.room_watchers:
                watcher.notice(room.room_id)  # a room just opened: changes before the next scan reach no one
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
        """Save the room's document to disk now, and wait until it is written.

        jupyter-server-ydoc cancels a save in progress when the document changes
        again (its autosave debounce), and its save task then ends quietly: a
        save counts only once the file loader recorded a new write, and is tried
        again until then.
        """
        room = self.room_for(api_path, kind)
        if room is None:
            return
        loader = room._file  # noqa: SLF001 - the room's FileLoader
        deadline = time.monotonic() + SAVE_TIMEOUT
        while time.monotonic() < deadline:
            written_before = loader.last_modified
            task = room._save_to_disc()  # noqa: SLF001 - jupyter-server-ydoc's manual-save entry point
            if task is not None:
                await task
                if loader.last_modified != written_before:
                    return
            await asyncio.sleep(0.02)  # the room was applying an update, or a newer change cancelled the save
        raise ToolError(
            f"Could not save {api_path!r} within {SAVE_TIMEOUT:g} s: each save was cancelled by newer changes "
            "(the room saves by itself once edits pause), or the file is not writable."
        )

    async def save_open_rooms(self) -> None:
        """Write every open room's document to disk now (the server is stopping).

        A room saves a moment after the last change and cancels that pending save
        when it stops, so an edit made just before shutdown would never reach the
        disk. This uses the room's own file loader, which refuses to overwrite
        out-of-band changes. Rooms whose document did not change since they were
        loaded or saved are left alone.
        """
        ext = self.settings.get("jupyter_server_ydoc")
        rooms = list(ext.ywebsocket_server.rooms.values()) if ext is not None else []

        async def save(room: Any) -> None:
            loader, document = getattr(room, "_file", None), getattr(room, "_document", None)
            if loader is None or document is None or not room.ready:
                return  # not a document room, or never loaded
            if self.durable is not None and not self.durable.changed(room):
                return  # nothing to save: writing it anyway would touch a file nobody edited
            try:
                content = await document.aget()
                await loader.maybe_save_content({"format": room.file_format, "type": room.file_type, "content": content})
            except Exception:
                self.serverapp.log.warning("collab-mcp could not save %s while stopping", room.room_id, exc_info=True)

        if rooms:
            try:
                await asyncio.wait_for(asyncio.gather(*(save(r) for r in rooms)), SAVE_ON_STOP_TIMEOUT)
            except TimeoutError:
                self.serverapp.log.warning("collab-mcp: some documents were not saved within %ss", SAVE_ON_STOP_TIMEOUT)

    def bind_update_store(self) -> str | None:
        """Keep every room's history in one store under the server's data directory.

        jupyter-server-ydoc builds a room's update store in two ways: rooms opened
        by a browser get the server's config (``c.SQLiteYStore.db_path`` applies),
        rooms opened with ``get_document(create=True)`` (agents) get no config and
        write ``.jupyter_ystore.db`` in the process's working directory. Unless
        the operator set ``SQLiteYStore.db_path``, point it at the data directory
        and make both paths use the config. Returns the store's database path.
        """
        ext = self.settings.get("jupyter_server_ydoc")
        if ext is None:
            return None
        base = ext.ystore_class
        config = ext.config  # the Config object the websocket handlers' store factory holds too
        if not getattr(base, "_collab_mcp_configured", False):
            if hasattr(base, "db_path"):  # an SQLite store, the default
                configured = any("db_path" in (config.get(cls.__name__) or {}) for cls in base.__mro__)
                if not configured:
                    db_path = os.path.join(self.serverapp.data_dir, STORE_FILE)
                    os.makedirs(os.path.dirname(db_path), exist_ok=True)
                    config.SQLiteYStore.db_path = db_path

            # SQLite stores also write in batches (collab_mcp_core.update_store).
            bases = (BatchedWrites, base) if hasattr(base, "db_path") else (base,)

            class ConfiguredYStore(*bases):  # type: ignore[misc, valid-type]
                """The server's store class, always built with the server's config."""

                _collab_mcp_configured = True

                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    kwargs.setdefault("config", config)
                    super().__init__(*args, **kwargs)

            ext.ystore_class = ConfiguredYStore
        return self.update_store_path()

    def update_store_path(self) -> str | None:
        """The database file new rooms keep their history in (None if not SQLite)."""
        ext = self.settings.get("jupyter_server_ydoc")
        try:
            db_path = getattr(ext.ystore_class(path="collab-mcp-probe"), "db_path", None)
        except Exception:
            return None
        return os.path.abspath(db_path) if db_path else None

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
        self._hook_rooms()
        server = self.ydoc.ywebsocket_server
        if not server.started.is_set():  # as jupyter-server-ydoc's get_document starts it
            asyncio.create_task(server.start())
            await server.started.wait()
        restored = await self.fork_store.restore(server)
        if restored:
            self.serverapp.log.info("collab-mcp restored %d fork(s) from %s", len(restored), self.fork_store.db_path)

    def _hook_rooms(self) -> None:
        """Wrap the websocket server's ``start_room`` (every room, opened by a browser, an agent
        or the fork API, starts there before it loads), ``delete_room``, and ``serve`` (every
        room websocket: see :func:`_without_nagle`)."""
        from jupyter_server_ydoc.rooms import DocumentRoom

        server = self.ydoc.ywebsocket_server
        start_room, delete_room = server.start_room, server.delete_room
        durable, forks = self.durable, self.fork_store
        assert durable is not None and forks is not None

        async def starting(room: Any) -> None:
            if isinstance(room, DocumentRoom):
                durable.adopt(room)
            else:
                fork_id = next((fid for fid in fork_table() if server.rooms.get(fid) is room), None)
                if fork_id is not None:
                    forks.started(fork_id, room)
            await start_room(room)

        async def deleting(*, name: str | None = None, room: Any = None) -> None:
            if name is None and room is not None:
                name = next((rid for rid, r in server.rooms.items() if r is room), None)
            await (delete_room(name=name) if name is not None else delete_room(room=room))
            if name is not None and forks.is_fork(name):
                forks.deleted(name)  # merged or discarded: its stored data goes too

        server.start_room = starting
        server.delete_room = deleting
        server.serve = _without_nagle(server.serve)

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
        """Save and close rooms agents opened, once no websocket client is in them
        and no agent used them for ``idle_seconds``. Returns the closed room ids."""
        closed = []
        now = time.monotonic()
        for room_id, last_used in list(self._agent_rooms.items()):
            room = self.find_room(room_id)
            if room is None:
                self._agent_rooms.pop(room_id, None)  # someone else cleaned it up
                continue
            if room.clients or now - last_used < idle_seconds:
                continue  # people are in it (their own cleaner applies), or an agent is at work
            try:
                await self._close_room(room_id, room)
            except Exception:
                self.serverapp.log.exception("collab-mcp could not close idle room %s", room_id)
                continue
            self._agent_rooms.pop(room_id, None)
            closed.append(room_id)
        return closed

    async def _close_room(self, room_id: str, room: Any) -> None:
        ydoc = self.ydoc
        async with ydoc._room_locks[room_id]:  # noqa: SLF001 - the lock jupyter-server-ydoc's handlers use
            if self.durable is None or self.durable.changed(room):
                task = room._save_to_disc()  # noqa: SLF001
                if task is not None:
                    await task
            await ydoc.ywebsocket_server.delete_room(room=room)
            file_id = room_id.split(":", 2)[2]
            if file_id in ydoc.file_loaders and ydoc.file_loaders[file_id].number_of_subscriptions == 0:
                await ydoc.file_loaders.remove(file_id)
        self.serverapp.log.info("collab-mcp closed idle room %s", room_id)

    # -- authorization -------------------------------------------------------------------

    async def jupyter_allows(self, identity: Identity, permission: str, path: str | None, handler: Any) -> bool:
        """Ask Jupyter's Authorizer (the default when no pack decides)."""
        return await jupyter_allows(self.settings.get("authorizer"), identity, permission, handler)


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


def _serving(room: Any) -> bool:
    """Whether a room is started, loaded and observing its document (ready for edits)."""
    if room is None or getattr(room, "_document", None) is None or not room.started.is_set():
        return False
    observed = getattr(room, "ydoc_observed", None)
    if observed is None or not observed.is_set():
        return False
    loading = getattr(room, "_document_load_progressively", False)
    return not (loading and not room._document_progressively_loaded.done())  # noqa: SLF001
