"""Document rooms whose acknowledged edits survive a crash, a restart and a stop.

jupyter-server-ydoc, left alone, loses edits in three ways this module closes.
It is given every document room as the room starts (:meth:`DurableRooms.adopt`,
from the room hooks, :mod:`~collab_mcp_core.room_hooks`), before the
room loads anything:

- The room hands each update to its store a moment after the change, so a
  crash right after a tool returned lost the tool's edit. Here the store
  follows the room's document from the moment the room is loaded
  (:meth:`~collab_mcp_core.update_store.BatchedWrites.follow`), and the host
  calls :meth:`DurableRooms.flush` before a tool returns. A room whose store
  is pycrdt's plain one (rooms a browser opens) gets collab-mcp's store
  class instead, before the room starts it.
- On a new load the room compares the store's content with the file and, if
  they differ, loads the file over it: for notebooks they always differ (the
  shared model adds an empty kernelspec and language_info), and after a
  crash the store holds edits the file does not. Here the room is rebuilt
  from the store when the file is the one collab-mcp last saved or loaded
  (its hash is in :class:`~collab_mcp_core.file_records.FileRecords`), and
  the result saved. When the file really changed on disk the file still
  wins, but if that overwrote edits that never reached the disk, the version
  they made is recorded (it stays restorable from the store) and logged.
- Saving every room when the server stops rewrote files nobody changed.
  Here a room's content digest is kept from its load and each save, and
  :meth:`DurableRooms.changed` tells the backend whether there is anything to save.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from jupyter_server.utils import ensure_async
from jupyter_ydoc import ydocs as YDOCS
from pycrdt import Doc
from pycrdt.store import YDocNotFound

from .update_store import BatchedWrites

if TYPE_CHECKING:
    from .file_records import FileRecords

log = logging.getLogger(__name__)


class DurableRooms:
    """The durability bookkeeping of one server's document rooms."""

    def __init__(
        self,
        contents_manager: Any,
        records: FileRecords | None,
        store_class: Callable[[], Any],
        on_loaded: Callable[[Any], None] | None = None,
    ) -> None:
        self.contents_manager = contents_manager
        self.records = records
        self._store_class = store_class  # the server's store class, read when a room starts
        self._on_loaded = on_loaded  # told of each room once it is loaded (synchronized forks follow it)
        self._adopted: weakref.WeakSet[Any] = weakref.WeakSet()
        self._loaders: weakref.WeakSet[Any] = weakref.WeakSet()
        self._digests: dict[str, str] = {}  # room id -> digest of the content last loaded or saved

    # -- the room hooks ----------------------------------------------------------------------

    def adopt(self, room: Any) -> None:
        """Take charge of a document room that is about to start (idempotent)."""
        if room in self._adopted:
            return
        self._adopted.add(room)
        self._use_batched_store(room)
        load = room.initialize

        async def initialize() -> None:
            await self._initialize(room, load)

        room.initialize = initialize  # the room's own first load, as both its openers call it
        self._record_saves(room)

    def follow(self, room: Any) -> None:
        """Make the room's store take each update as it is made (idempotent)."""
        store = getattr(room, "ystore", None)
        if isinstance(store, BatchedWrites):
            store.follow(room.ydoc)

    async def flush(self, rooms: Any) -> None:
        """Wait until every update made so far in these rooms is committed to their stores."""
        for room in list(rooms):
            store = getattr(room, "ystore", None)
            if isinstance(store, BatchedWrites):
                await store.flush()

    def changed(self, room: Any) -> bool:
        """Whether the room's document differs from what it last loaded or saved."""
        known = self._digests.get(room.room_id)
        return known is None or known != _digest(room._document.get())  # noqa: SLF001

    # -- loading ---------------------------------------------------------------------------

    def _use_batched_store(self, room: Any) -> None:
        """Give a room collab-mcp's store class where jupyter-server-ydoc built its own.

        The websocket handlers build stores from the class the server had before
        collab-mcp started; the database and settings stay the same.
        """
        store, ours = getattr(room, "ystore", None), self._store_class()
        if store is None or isinstance(store, BatchedWrites) or store.started.is_set():
            return
        if ours is not None and issubclass(ours, BatchedWrites) and type(store) in ours.__mro__:
            room.ystore = ours(path=store.path, log=store.log)

    async def _initialize(self, room: Any, load: Callable[[], Awaitable[None]]) -> None:
        if room.ready:
            return
        store = room.ystore
        if store is None or self.records is None:
            await load()
            self._loaded(room)
            return
        await _started(room, store)
        known = self.records.known_hash(room.room_id)
        on_disk = await self._file_hash(room)
        if known is not None and on_disk == known[0]:
            on_file = await self._rebuild(room)
            if on_file is not None:
                self._loaded(room, on_file)  # until its save, the file is behind the room
                return
        rows = await _rows(store)
        await load()
        self.follow(room)  # at once: with progressive loading, the rest of the file is still arriving
        progress = getattr(room, "_document_progressively_loaded", None)
        if getattr(room, "_document_load_progressively", False) and progress is not None:
            await progress
        self._loaded(room)
        if rows:
            self._note_overwritten(room, rows, known)
        if isinstance(store, BatchedWrites):  # (a plain store wrote it as the room loaded)
            await store.flush()  # the store holds the file's content now: record that
        if on_disk is not None:
            self.records.record(room.room_id, on_disk)

    async def _rebuild(self, room: Any) -> Any | None:
        """Load the room from its store alone (the file is a state the store holds), then save
        if the store is ahead of the file. Returns the file's content as the room would hold it,
        or None if the store has nothing (the room is then not loaded)."""
        model = await room._file.load_content(room.file_format, room.file_type)  # noqa: SLF001 - also the loader's mtime
        async with room._update_lock:  # noqa: SLF001 - no autosave while loading
            try:
                await room.ystore.apply_updates(room.ydoc)
            except YDocNotFound:
                return None
            room.ready = True
            self.follow(room)
        progress = getattr(room, "_document_progressively_loaded", None)
        if progress is not None and not progress.done():
            progress.set_result(None)
        path, on_file = room._file.path, _as_loaded(room, model["content"])  # noqa: SLF001
        if on_file != room._document.get():  # noqa: SLF001
            log.info("collab-mcp rebuilt %s from the update store (edits newer than the file); saving it", path)
            room._save_to_disc()  # noqa: SLF001 - jupyter-server-ydoc's manual-save entry point
        else:
            log.info("collab-mcp rebuilt %s from the update store (it matches the file)", path)
        return on_file

    def _loaded(self, room: Any, on_file: Any = None) -> None:
        """The room is loaded: follow it, and remember what its file holds (``on_file``, by
        default what the room holds now) to tell later whether there is anything to save."""
        self.follow(room)
        self._digests[room.room_id] = _digest(room._document.get() if on_file is None else on_file)  # noqa: SLF001
        if self._on_loaded is not None:
            self._on_loaded(room)

    def _note_overwritten(self, room: Any, rows: list[tuple[bytes, float]], known: tuple[str, float] | None) -> None:
        """Record (and log) the version a changed file overwrote, if it held unsaved edits."""
        latest = _replay(room, rows)
        if latest == room._document.get():  # noqa: SLF001 - the file says the same
            return
        if known is not None and latest == _replay(room, [r for r in rows if r[1] <= known[1]]):
            return  # nothing changed since collab-mcp last saved: the file was just edited on disk
        version = max(stamp for _update, stamp in rows)
        assert self.records is not None
        self.records.overwrote(room.room_id, version)
        log.warning(
            "collab-mcp: %s changed on disk since collab-mcp last saved it, so its room loaded the file; "
            "edits that had not reached the disk are kept as history version %r "
            "(get_document_history lists it, restore_document_version brings it back)",
            room._file.path,  # noqa: SLF001
            version,
        )

    async def _file_hash(self, room: Any) -> str | None:
        try:
            model = await ensure_async(
                self.contents_manager.get(room._file.path, content=False, require_hash=True)  # noqa: SLF001
            )
        except Exception:  # the room's own load reports a missing or unreadable file
            return None
        return model.get("hash")

    # -- saving ----------------------------------------------------------------------------

    def _record_saves(self, room: Any) -> None:
        """Record the hash and content digest of each save of the room's file."""
        loader = room._file  # noqa: SLF001 - the room's FileLoader, which every save goes through
        if loader in self._loaders:
            return
        self._loaders.add(loader)
        save = loader.maybe_save_content

        async def maybe_save_content(model: dict[str, Any]) -> dict[str, Any] | None:
            saved = await save(model)
            if saved:
                await self._saved(room, model["content"], saved.get("hash"))
            return saved

        loader.maybe_save_content = maybe_save_content

    async def _saved(self, room: Any, content: Any, file_hash: str | None) -> None:
        self._digests[room.room_id] = _digest(content)
        store = getattr(room, "ystore", None)
        if isinstance(store, BatchedWrites):
            await store.flush()  # what the file holds is in the store before the record says so
        if self.records is not None and file_hash:
            self.records.record(room.room_id, file_hash)


async def _started(room: Any, store: Any) -> None:
    """Start the room's store, as the room's own load does."""
    async with store.start_lock:
        if not store.started.is_set():
            room.create_task(store.start())
            await store.started.wait()


async def _rows(store: Any) -> list[tuple[bytes, float]]:
    try:
        return [(update, stamp) async for update, _metadata, stamp in store.read()]
    except YDocNotFound:
        return []


def _replay(room: Any, rows: list[tuple[bytes, float]]) -> Any:
    doc = YDOCS.get(room.file_type, YDOCS["file"])(Doc())
    for update, _stamp in rows:
        doc.ydoc.apply_update(update)
    return doc.get()


def _as_loaded(room: Any, content: Any) -> Any:
    """File content as the room's shared model holds it (notebooks gain default metadata)."""
    doc = YDOCS.get(room.file_type, YDOCS["file"])(Doc())
    doc.set(content)
    return doc.get()


def _digest(content: Any) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
