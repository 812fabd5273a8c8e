"""The Jupyter server extension: configuration (``c.CollabMCP.*``) and start-up."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import re
import signal
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, CaselessStrEnum, Float, Int, List, Unicode

from .backend import LocalBackend
from .errors import RegistrationError
from .host import Host
from .log_levels import skip_unhandled_app_records
from .packs import PackManager
from .transport import METADATA_PATH, RESPONSE_MODES, HealthHandler, MCPHandler, ResourceMetadataHandler, SessionManager, security_settings
from .stopping import release_rooms


class CollabMCP(ExtensionApp):
    """collab-mcp: MCP for AI agents, served on the Jupyter server's own port."""

    name = "collab_mcp_core"
    description = "AI agents as real-time collaborators, over the Model Context Protocol"
    load_other_extensions = True

    enabled_packs = List(
        Unicode(), default_value=[], help="Packs to load by entry-point name (empty: every installed pack)."
    ).tag(config=True)
    disabled_packs = List(
        Unicode(), default_value=[], help="Packs never to load; their code is not even imported."
    ).tag(config=True)
    extra_packs = List(
        Unicode(),
        default_value=[],
        help="Import names of pack modules to load besides installed entry points (local packs, no packaging).",
    ).tag(config=True)
    allowed_tools = List(Unicode(), default_value=[], help="If set, only these tools are offered.").tag(config=True)
    denied_tools = List(Unicode(), default_value=[], help="Tools never offered, whatever pack gives them.").tag(
        config=True
    )
    endpoint = Unicode("mcp", help="Path of the MCP endpoint under the server's base_url.").tag(config=True)
    response_mode = CaselessStrEnum(
        list(RESPONSE_MODES),
        default_value="auto",
        help="How requests are answered: 'auto' (plain JSON, or an SSE stream when the client asked for "
        "progress), 'sse' (always a stream, resumable with Last-Event-ID) or 'json' (always plain JSON: "
        "no progress notifications).",
    ).tag(config=True)
    session_idle_timeout = Float(1800.0, help="Seconds after which an idle MCP session is closed.").tag(config=True)
    max_sessions = Int(1000, help="Most MCP sessions open at once.").tag(config=True)
    max_events_per_session = Int(
        256, help="Events kept per session for clients resuming with Last-Event-ID."
    ).tag(config=True)

    max_request_bytes = Int(
        4 * 1024 * 1024,
        help="Largest request body the endpoint accepts (bigger ones get HTTP 413 before any tool sees them). "
        "Keep Limits.max_content_chars below it: a character is 1 to 4 bytes in the body.",
    ).tag(config=True)

    history_in_data_dir = Bool(
        True,
        help="Keep every room's update store (document history) in the server's data directory, "
        "unless SQLiteYStore.db_path is set. Off: jupyter-server-ydoc's defaults (rooms agents open "
        "then write .jupyter_ystore.db in the working directory).",
    ).tag(config=True)
    room_idle_timeout = Float(
        300.0,
        help="Seconds after which a room an agent opened, with nobody else in it, is saved and closed.",
    ).tag(config=True)

    host: Host
    session_manager: SessionManager
    serving_status = "starting"  # what {endpoint}/healthz says: "starting", "ok" (serving), "stopping"
    _manager_task: asyncio.Task | None = None
    _room_closer: asyncio.Task | None = None

    def initialize_settings(self) -> None:
        packs = PackManager(enabled=self.enabled_packs, disabled=self.disabled_packs)
        packs.load_entry_points()
        for module_name in self.extra_packs:
            packs.register(importlib.import_module(module_name), name=module_name)
        try:
            self.host = Host(app=self, packs=packs, backend=LocalBackend(self.serverapp))
        except RegistrationError as err:
            # Jupyter would log a failed extension and serve without it: a pack mistake
            # (a tool without a permission, a name taken twice) must stop the server instead.
            self.log.critical("collab-mcp cannot start: %s", err)
            raise SystemExit(1) from err
        problems = packs.misnamed(self.allowed_tools, self.denied_tools)
        if problems:
            # A misspelt name would silently do nothing (a denied tool left callable):
            # stop the server rather than serve what the operator did not mean.
            for problem in problems:
                self.log.critical("collab-mcp cannot start: %s", problem)
            raise SystemExit(1)
        self.session_manager = SessionManager(
            app=self.host.server,
            response_mode=self.response_mode,
            security_settings=security_settings(self.serverapp),
            session_idle_timeout=self.session_idle_timeout,
            max_request_body_size=self.max_request_bytes,
            max_sessions=self.max_sessions,
            max_events=self.max_events_per_session,
            on_session_closed=self.host.session_closed,
        )
        self.settings["collab_mcp"] = self.host

    def initialize_handlers(self) -> None:
        self.handlers.append((rf"/{self.endpoint}/healthz", HealthHandler, {"host": self.host}))
        self.handlers.append(
            (rf"/{self.endpoint}/?", MCPHandler, {"host": self.host, "manager": self.session_manager})
        )
        # Under base_url (where the 401 points), and at the host's root as RFC 9728 puts it
        # (the same path when base_url is "/"; behind JupyterHub the root is the hub's).
        self.handlers.append((rf"/{re.escape(METADATA_PATH)}/{self.endpoint}/?", ResourceMetadataHandler, {"host": self.host}))
        base = self.serverapp.base_url
        if base != "/":
            self.serverapp.web_app.add_handlers(
                ".*$",
                [(rf"/{re.escape(METADATA_PATH)}{base}{self.endpoint}/?", ResourceMetadataHandler, {"host": self.host})],
            )

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        started = asyncio.Event()

        async def run_manager() -> None:
            # manager.run() owns the task group of every session: one long-lived task.
            async with self.session_manager.run():
                started.set()
                await asyncio.Event().wait()

        self._manager_task = asyncio.create_task(run_manager(), name="collab-mcp sessions")
        self._room_closer = asyncio.create_task(self._close_idle_rooms(), name="collab-mcp room closer")
        if self.history_in_data_dir:
            store = self.host.backend.bind_update_store()
            self.log.info("collab-mcp: document history is stored in %s", store)
        await self.host.backend.keep_rooms_durable()
        skip_unhandled_app_records()  # once the loggers are configured (see log_levels)
        self._stop_on_sigint()
        await started.wait()
        self.host.notices.start()
        await self.host.packs.notify("host_started", host=self.host)
        self.serving_status = "ok"

    def _stop_on_sigint(self) -> None:
        """Stop cleanly (saving open rooms) on SIGINT also without a TTY.

        Jupyter binds SIGINT only when stdin is a TTY (to ask for confirmation);
        otherwise Python's default raises KeyboardInterrupt out of the event loop
        and no extension's stop runs. JupyterHub's spawners stop servers with
        SIGINT and no TTY. SIGTERM already goes to the server's clean stop.
        """
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self.serverapp._signal_stop)  # noqa: SLF001 - what SIGTERM calls

    async def _close_idle_rooms(self) -> None:
        while True:
            await asyncio.sleep(max(0.5, min(30.0, self.room_idle_timeout / 4)))
            await self.host.backend.close_idle_rooms(self.room_idle_timeout)

    async def stop_extension(self) -> None:
        if not hasattr(self, "host"):
            return  # loading failed; nothing was started
        self.serving_status = "stopping"
        await self.host.backend.save_open_rooms()
        await self.host.packs.notify("host_stopping", host=self.host)
        self.host.backend.room_events.close_all()  # listeners let go of every room
        await self.host.subscriptions.stop()
        await self.host.notices.stop()
        for task in (self._room_closer, self._manager_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.host.backend.flush_updates()
        await release_rooms(self.host.backend.rooms().values())  # last: else the process never exits


def read_settings(argv: list[str]) -> CollabMCP:
    """``CollabMCP`` settings from the config files and ``--CollabMCP.x=y`` options, as the server reads them
    (for commands that run no server: ``collab-mcp packs``, ``collab-mcp connect`` in remote mode)."""
    from jupyter_core.application import JupyterApp

    class ConfigReader(JupyterApp):
        name = "collab-mcp"
        config_file_name = "jupyter_server_config"
        classes = [CollabMCP]

    reader = ConfigReader()
    reader.initialize(argv)
    return CollabMCP(config=reader.config)
