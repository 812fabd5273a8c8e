"""Each notebook as an MCP resource (``notebook://{path}``), and change notifications.

A watcher observes the cells of every open notebook room (``observe_deep`` on
the cells array: ``YNotebook.observe`` would replace the room's own observer
and stop autosave). When anyone changes a notebook, a person in JupyterLab or
an agent, subscribed clients hear ``notifications/resources/updated`` once the
changes have been quiet for ``resource_debounce`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from pycrdt import Array

from collab_mcp_core import ResourceTemplate, ToolError
from collab_mcp_core.host import ToolContext

from .config import NotebookPack
from .notebooks import GetNotebookArgs, get_notebook, walk_notebooks

log = logging.getLogger(__name__)

SCHEME = "notebook"
NOTEBOOK_ROOM_PREFIX = "json:notebook:"
# How often the watcher looks for rooms opened or closed since it last looked.
SCAN_INTERVAL = 0.25


def uri_of(api_path: str) -> str:
    return f"{SCHEME}://{api_path}"


async def list_notebook_resources(ctx: ToolContext) -> list[types.Resource]:
    """Every notebook under the root, as a resource. Opens no room."""
    return [
        types.Resource(uri=uri_of(m["path"]), name=m["path"], mime_type="application/json", title=m["name"])
        for m in await walk_notebooks(ctx, "") or []
    ]


async def read_notebook_resource(ctx: ToolContext, uri: str) -> str:
    """The live notebook as get_notebook returns it (all cells, outputs within the budget), as JSON."""
    path = uri.partition("://")[2]
    if not path:
        raise ToolError(f"{uri!r} names no notebook; use notebook://<path relative to the server root>.")
    output = await get_notebook(ctx, GetNotebookArgs(path=path, limit=5000))
    return json.dumps(output.structured.model_dump(mode="json"), ensure_ascii=False)


NOTEBOOK_RESOURCES = ResourceTemplate(
    scheme=SCHEME,
    name="notebook",
    description="A notebook of the server as it is live in its collaboration room (cells with ids, sources, "
    "outputs within the output budget). Subscribe to hear when anyone changes it.",
    mime_type="application/json",
    list=list_notebook_resources,
    read=read_notebook_resource,
)


# -- watching rooms -------------------------------------------------------------------------


@dataclass
class _Watched:
    doc: Any
    subscription: Any
    cells: Any


class NotebookWatcher:
    """Observes open notebook rooms and tells subscribers, debounced, when a notebook changed."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.debounce = host.configurable(NotebookPack).resource_debounce
        self.watched: dict[str, _Watched] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.pending: set[asyncio.Task] = set()
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
                log.exception("the notebook watcher could not scan rooms")
            await asyncio.sleep(SCAN_INTERVAL)

    def scan(self) -> None:
        rooms = self.host.backend.ydoc.ywebsocket_server.rooms
        for room_id in list(self.watched):
            room = rooms.get(room_id)
            if room is None or room.ydoc is not self.watched[room_id].doc:
                self._forget(room_id)
        for room_id, room in list(rooms.items()):
            if room_id.startswith(NOTEBOOK_ROOM_PREFIX) and room_id not in self.watched:
                cells = room.ydoc.get("cells", type=Array)
                subscription = cells.observe_deep(lambda *_event, rid=room_id: self._changed(rid))
                self.watched[room_id] = _Watched(room.ydoc, subscription, cells)

    def _forget(self, room_id: str) -> None:
        watched = self.watched.pop(room_id)
        with contextlib.suppress(Exception):
            watched.cells.unobserve(watched.subscription)

    def _changed(self, room_id: str) -> None:
        # Called inside the transaction that changed the cells: only (re)arm a timer here.
        timer = self.timers.pop(room_id, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self.timers[room_id] = loop.call_later(self.debounce, self._fire, room_id)

    def _fire(self, room_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._notify(room_id))
        self.pending.add(task)  # a reference, so the task is not garbage-collected before it runs
        task.add_done_callback(self.pending.discard)

    async def _notify(self, room_id: str) -> None:
        self.timers.pop(room_id, None)
        file_id = room_id[len(NOTEBOOK_ROOM_PREFIX) :]
        path = self.host.backend.settings["file_id_manager"].get_path(file_id)
        if path:
            await self.host.resource_updated(uri_of(path.lstrip("/")))


_watchers: weakref.WeakKeyDictionary[Any, NotebookWatcher] = weakref.WeakKeyDictionary()


def start_watching(host: Any) -> None:
    watcher = _watchers[host] = NotebookWatcher(host)
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
