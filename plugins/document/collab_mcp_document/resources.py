"""Each text document as an MCP resource (``document://{path}``), and change notifications.

A watcher looks at the open rooms a few times a second. For each text room it
observes the document's ``Text`` (``YUnicode.observe`` would replace the room's
own observer and stop autosave) and tells subscribed clients, once changes have
been quiet for ``resource_debounce`` seconds, that the document changed, whoever
changed it. It also hands every document room, notebooks included, to the
author log, so people's edits get authors even in rooms no agent opened.
Notebooks are resources of the notebook pack (``notebook://``); here they can
be read but are not listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import weakref
from typing import Any

import mcp_types as types

from collab_mcp_core import ResourceTemplate, ToolError
from collab_mcp_core.host import ToolContext

from .authors import author_log
from .config import DocumentPack
from .documents import content_of, open_live, resolve, type_from_name
from .listing import walk_files

log = logging.getLogger(__name__)

SCHEME = "document"
TEXT_ROOM_PREFIX = "text:file:"
SCAN_INTERVAL = 0.25  # how often the watcher looks for rooms opened or closed
MAX_LISTED = 1000


def uri_of(api_path: str) -> str:
    return f"{SCHEME}://{api_path}"


async def list_document_resources(ctx: ToolContext) -> list[types.Resource]:
    """Every text document under the root (at most MAX_LISTED), as a resource. Opens no room."""
    resources = []
    for model in await walk_files(ctx, ""):
        file_type = type_from_name(model["path"])
        if file_type is None or file_type == "notebook":
            continue
        resources.append(types.Resource(uri=uri_of(model["path"]), name=model["path"], mime_type="text/plain",
                                        title=model["name"]))
        if len(resources) >= MAX_LISTED:
            break
    return resources


async def read_document_resource(ctx: ToolContext, uri: str) -> str:
    """The live text of the document (unsaved edits included)."""
    path = uri.partition("://")[2]
    if not path:
        raise ToolError(f"{uri!r} names no document; use document://<path relative to the server root>.")
    ref = await resolve(ctx, path)
    return content_of(await open_live(ctx, ref), ref)


DOCUMENT_RESOURCES = ResourceTemplate(
    scheme=SCHEME,
    name="document",
    description="A text document of the server (text, markdown or code file) as it is live in its collaboration "
    "room, unsaved edits included. Subscribe to hear when anyone changes it.",
    mime_type="text/plain",
    list=list_document_resources,
    read=read_document_resource,
)


class DocumentWatcher:
    """Observes open text rooms and tells subscribers, debounced, when a document changed."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.debounce = host.configurable(DocumentPack).resource_debounce
        self.watched: dict[str, tuple[Any, Any, Any]] = {}  # room id -> (ydoc, text, subscription)
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
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
                log.exception("the document watcher could not scan rooms")
            await asyncio.sleep(SCAN_INTERVAL)

    def scan(self) -> None:
        ext = self.host.backend.settings.get("jupyter_server_ydoc")
        if ext is None:
            return
        rooms = ext.ywebsocket_server.rooms
        for room_id in list(self.watched):
            room = rooms.get(room_id)
            if room is None or room.ydoc is not self.watched[room_id][0]:
                self._forget(room_id)
        authors = author_log()
        if authors is not None:
            authors.prune(rooms)
        for room_id, room in list(rooms.items()):
            if room_id.count(":") < 2:
                continue  # fork and awareness rooms
            if authors is not None:
                authors.watch(room_id, room)
            if room_id.startswith(TEXT_ROOM_PREFIX) and room_id not in self.watched:
                document = getattr(room, "_document", None)
                text = getattr(document, "_ysource", None)
                if text is not None:
                    # One parameter: pycrdt passes the transaction too to callbacks that take two.
                    subscription = text.observe(functools.partial(self._changed, room_id))
                    self.watched[room_id] = (room.ydoc, text, subscription)

    def _forget(self, room_id: str) -> None:
        _ydoc, text, subscription = self.watched.pop(room_id)
        with contextlib.suppress(Exception):
            text.unobserve(subscription)

    def _changed(self, room_id: str, _event: Any) -> None:
        # Called inside the transaction that changed the text: only (re)arm a timer here.
        timer = self.timers.pop(room_id, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self.timers[room_id] = loop.call_later(self.debounce, lambda: loop.create_task(self._notify(room_id)))

    async def _notify(self, room_id: str) -> None:
        self.timers.pop(room_id, None)
        path = self.host.backend.settings["file_id_manager"].get_path(room_id[len(TEXT_ROOM_PREFIX):])
        if path:
            await self.host.resource_updated(uri_of(path.lstrip("/")))


_watchers: weakref.WeakKeyDictionary[Any, DocumentWatcher] = weakref.WeakKeyDictionary()


def start_watching(host: Any) -> None:
    watcher = _watchers[host] = DocumentWatcher(host)
    watcher.start()


def watch_now(host: Any) -> None:
    """Look for new rooms now (an agent just opened one): changes made before
    the next periodic scan would otherwise reach no subscriber."""
    watcher = _watchers.get(host)
    if watcher is not None:
        watcher.scan()


async def stop_watching(host: Any) -> None:
    watcher = _watchers.pop(host, None)
    if watcher is not None:
        await watcher.stop()
