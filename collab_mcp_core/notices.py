"""What the server tells agents unasked: MCP log messages (``notifications/message``).

An agent should hear of what breaks its work although it did not ask: its
notebook's kernel died, a document was reloaded from disk after someone wrote
the file behind the collaboration (edits since the last save are gone), a save
failed. Each message goes to the sessions whose identity may read the document
it is about, at or above the level each session chose with ``logging/setLevel``
(``warning`` until it chooses).

Only sessions of the 2025-11-25 revision get them: the 2026-07-28 revision
removed ``logging/setLevel`` and lets log messages ride only the stream of the
request that asked for them, and these messages answer no request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Protocol

from .errors import PermissionDenied, ToolError

if TYPE_CHECKING:
    from .backend_protocol import Backend
    from .identity import Identity


class Host(Protocol):
    """What notices need of the host (the host imports this module: types flow one way)."""

    backend: Backend
    connections: dict[str, Any]
    session_identities: dict[str, Identity]

    async def check_permission(
        self, identity: Identity, permission: str, path: str | None, tool: str, handler: Any = None
    ) -> None: ...

log = logging.getLogger(__name__)

#: Severity, ascending (RFC 5424, as MCP names them).
LEVELS: tuple[str, ...] = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
DEFAULT_LEVEL = "warning"
LOGGER = "collab-mcp"

KERNEL_SCAN_INTERVAL = 1.0  # seconds between looks for kernels started since (to hear when they die)


class Notices:
    """Per-session log levels, delivery, and the Jupyter happenings worth a message."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.levels: dict[str, str] = {}  # session id -> the least severe level it wants
        self._watched_kernels: dict[str, Any] = {}  # kernel id -> its death unsubscriber
        self._kernel_paths: dict[str, set[str]] = {}  # kernel id -> notebooks using it, as of the last look
        self._kernel_scan: asyncio.Task | None = None
        self._unsubscribers: list[Any] = []
        self._pending: set[asyncio.Task] = set()

    # -- logging/setLevel and delivery ---------------------------------------------------------

    def set_level(self, session_id: str, level: str) -> None:
        """``logging/setLevel``: from now on, send this session messages at ``level`` or above."""
        self.levels[session_id] = level

    def forget(self, session_id: str) -> None:
        self.levels.pop(session_id, None)

    async def send(self, level: str, message: str, *, path: str | None = None, **details: Any) -> int:
        """Send a log message to every session that wants ``level`` and may read ``path``; how many got it."""
        data = {"message": message, **({"path": path} if path else {}), **details}
        sent = 0
        for session_id, connection in list(self.host.connections.items()):
            wanted = self.levels.get(session_id, DEFAULT_LEVEL)
            if LEVELS.index(level) < LEVELS.index(wanted):
                continue
            identity = self.host.session_identities.get(session_id)
            if identity is None:
                continue
            if path is not None:
                try:
                    await self.host.check_permission(identity, "read", path, "notifications/message")
                except PermissionDenied:
                    continue
            # The connection's own log() is deprecated with the logging capability; notify() is not.
            await connection.notify("notifications/message", {"level": level, "logger": LOGGER, "data": data})
            sent += 1
        return sent

    # -- what Jupyter says ------------------------------------------------------------------------

    def start(self) -> None:
        """Listen to what the rooms log (a reload from disk, a failed save) and watch kernels for deaths."""
        self._unsubscribers.append(self.host.backend.on_room_log(self._collaboration_event))
        self._kernel_scan = asyncio.create_task(self._watch_kernels(), name="collab-mcp kernel deaths")

    async def stop(self) -> None:
        for unsubscribe in [*self._watched_kernels.values(), *self._unsubscribers]:
            with contextlib.suppress(Exception):
                unsubscribe()
        self._watched_kernels.clear()
        self._unsubscribers.clear()
        for task in (self._kernel_scan, *self._pending):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _collaboration_event(self, data: dict[str, Any]) -> None:
        try:
            await self._tell_about_room(data)
        except Exception:
            log.exception("collab-mcp could not tell agents about a room event")

    async def _tell_about_room(self, data: dict[str, Any]) -> None:
        path = str(data.get("path") or "").lstrip("/") or None
        text = str(data.get("msg") or "")
        if data.get("action") == "overwrite":
            await self.send(
                "warning",
                f"{path} was changed on disk outside the collaboration and reloaded from the file: edits made "
                "since its last save may be gone. Read it again before editing it.",
                path=path, event="document_reloaded",
            )
        elif data.get("level") == "ERROR" and text.startswith("Error saving"):
            await self.send(
                "error", f"Saving {path} failed ({text.splitlines()[-1]}); its edits are only in the live document.",
                path=path, event="save_failed",
            )
        elif data.get("level") == "ERROR" and text.startswith("Error loading"):
            await self.send("error", f"Loading {path} from disk failed ({text.splitlines()[-1]}).", path=path,
                            event="load_failed")

    async def _watch_kernels(self) -> None:
        # The backend hears of a death (the server's restarter in extension mode, the kernel
        # websocket in remote mode) once someone subscribes to the kernel: look for new ones.
        kernels = self.host.backend.kernels
        while True:
            try:
                await self._remember_kernel_paths()
                for kernel_id in self._kernel_paths.keys() - self._watched_kernels.keys():
                    self._watched_kernels[kernel_id] = kernels.on_death(
                        kernel_id, lambda restarting, k=kernel_id: self._kernel_died(k, restarting=restarting)
                    )
                for kernel_id in self._watched_kernels.keys() - self._kernel_paths.keys():
                    self._watched_kernels.pop(kernel_id)()
            except ToolError:
                pass  # a remote server out of reach (it says so to the calls meanwhile): look again later
            except Exception:
                log.exception("collab-mcp could not look for new kernels")
            await asyncio.sleep(KERNEL_SCAN_INTERVAL)

    def _kernel_died(self, kernel_id: str, *, restarting: bool) -> None:
        # Called by the restarter inside the event loop: schedule the (async) message.
        task = asyncio.ensure_future(self._tell_kernel_died(kernel_id, restarting))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _remember_kernel_paths(self) -> None:
        # Jupyter forgets a dead kernel's sessions: what it was used for is looked up beforehand.
        paths: dict[str, set[str]] = {}
        for session in await self.host.backend.kernels.list_sessions():
            kernel_id = (session.get("kernel") or {}).get("id")
            if kernel_id and session.get("path"):
                paths.setdefault(kernel_id, set()).add(session["path"])
        self._kernel_paths = paths

    async def _tell_kernel_died(self, kernel_id: str, restarting: bool) -> None:
        for path in sorted(self._kernel_paths.get(kernel_id, ())):  # a kernel no notebook uses concerns no agent's notebook
            if restarting:
                await self.send(
                    "warning",
                    f"The kernel of {path} died and is being restarted: its variables are lost; run again the "
                    "cells your work depends on.",
                    path=path, event="kernel_died", kernel_id=kernel_id, restarting=True,
                )
            else:
                await self.send(
                    "error",
                    f"The kernel of {path} died and could not be restarted; running a cell starts a new one.",
                    path=path, event="kernel_died", kernel_id=kernel_id, restarting=False,
                )
