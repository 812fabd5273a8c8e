"""Remote mode: the packs run in this process, on a :class:`~.remote_backend.RemoteBackend`, over stdio.

The host is the same as in the extension (registry, argument validation, call
pipeline, events); only the backend and the transport differ. The caller is
the one user of this process: the owner of the token, as the server names it
(``api/me``), and the server authorizes each request the token makes.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

from .connect import ConnectError, Target
from .identity import Identity
from .remote_backend import UNAVAILABLE_TOOLS, RemoteBackend


def remote_settings(passthrough: list[str]) -> Any:
    """The ``CollabMCP`` settings, as the server reads them, without the tools remote mode cannot offer."""
    from .app import read_settings

    settings = read_settings(passthrough)
    settings.denied_tools = [*settings.denied_tools, *UNAVAILABLE_TOOLS]
    return settings


async def token_owner(backend: RemoteBackend) -> Identity:
    answer = await backend.http.get(backend.target.url + "api/me")
    if answer.status_code != 200:
        raise ConnectError(f"{backend.target.url} did not say who the token belongs to (api/me answered "
                           f"HTTP {answer.status_code})")
    user = answer.json().get("identity") or {}
    return Identity(
        username=user.get("username") or "agent",
        display_name=user.get("display_name") or user.get("name") or "",
        initials=user.get("initials") or "",
        color=user.get("color"),
        avatar_url=user.get("avatar_url"),
        provider="remote",
    )


def state_folder(target: Target) -> str:
    """Where this machine keeps remote mode's own state for one server (nothing of the server's files)."""
    from jupyter_core.paths import jupyter_data_dir

    key = hashlib.sha256(target.url.encode()).hexdigest()[:16]
    folder = os.path.join(jupyter_data_dir(), "collab_mcp_remote", f"{urlsplit(target.url).hostname}-{key}")
    os.makedirs(folder, exist_ok=True)
    return folder


@contextlib.asynccontextmanager
async def remote_host(target: Target, passthrough: list[str]) -> AsyncIterator[Any]:
    """The host with every installed pack on a RemoteBackend, started; stopped on exit."""
    from .host import Host
    from .packs import PackManager

    settings = remote_settings(passthrough)
    backend = RemoteBackend(target, state_folder(target))
    try:
        identity = await token_owner(backend)
        packs = PackManager(enabled=settings.enabled_packs, disabled=settings.disabled_packs)
        packs.load_entry_points()
        for module_name in settings.extra_packs:  # as the extension loads them
            packs.register(importlib.import_module(module_name), name=module_name)
        host = Host(app=settings, packs=packs, backend=backend, local_identity=identity)
        host.notices.start()  # a kernel that dies is told to the agent, as in the server
        await host.packs.notify("host_started", host=host)
        try:
            yield host
        finally:
            await host.packs.notify("host_stopping", host=host)
            await host.notices.stop()
    finally:
        await backend.close()


async def run_stdio_remote(target: Target, passthrough: list[str]) -> None:
    """Serve the packs over this process's stdin and stdout until the client leaves."""
    from mcp.server.stdio import stdio_server

    async with remote_host(target, passthrough) as host, stdio_server() as (read, write):
        await host.server.run(read, write, host.server.create_initialization_options())


async def run_http_remote(
    target: Target, passthrough: list[str], ip: str, port: int, token: str, banner: Callable[[], None]
) -> None:
    """Serve the packs as Streamable HTTP at ``http://ip:port/mcp`` for ``token``; ``banner()`` once it answers."""
    import secrets

    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    from .host import SCOPE_IDENTITY
    from .transport import SessionManager

    names = {ip, "127.0.0.1", "localhost"}
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=sorted({*names, *(f"{n}:{port}" for n in names)}),
        allowed_origins=sorted(f"http://{n}:{port}" for n in names),
    )
    async with remote_host(target, passthrough) as host:
        settings = host.app
        manager = SessionManager(
            app=host.server, response_mode=settings.response_mode, security_settings=security,
            session_idle_timeout=settings.session_idle_timeout, max_sessions=settings.max_sessions,
            max_events=settings.max_events_per_session, on_session_closed=host.session_closed,
        )
        expected = f"Bearer {token}".encode()

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            if scope["path"].rstrip("/") != "/mcp":
                await _answer(send, 404, b"not found: the MCP endpoint is /mcp")
                return
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not secrets.compare_digest(given, expected):
                await _answer(send, 401, b"a Bearer token is required (the one collab-mcp connect printed)")
                return
            await manager.handle_request({**scope, SCOPE_IDENTITY: host.local_identity}, receive, send)

        class Server(uvicorn.Server):
            async def startup(self, sockets: Any = None) -> None:
                await super().startup(sockets)
                if self.started:  # the banner is the promise a client acts on at once: print it when serving
                    banner()

        # Bound here, so that a port in use is one line and exit code 2 rather than uvicorn's exit.
        try:
            sock = socket.create_server((ip, port), family=socket.AF_INET6 if ":" in ip else socket.AF_INET)
        except OSError as err:
            raise ConnectError(f"cannot serve MCP at {ip}:{port}: {err.strerror or err}") from None
        with sock:
            server = Server(uvicorn.Config(app, host=ip, port=port, log_level="warning", lifespan="off"))
            async with manager.run():
                await server.serve(sockets=[sock])


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
