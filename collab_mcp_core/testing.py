"""A pytest plugin for testing collab-mcp and third-party packs against the real thing.

Installed with collab-mcp (entry point ``pytest11``), so any project can use:

- ``collab_server``: a real Jupyter server with jupyter-server-ydoc, the file-id
  service and collab-mcp, on a temporary root and a free 127.0.0.1 port, in its
  own process (shared by the tests of one module, stopped afterwards);
- ``collab_server_factory``: start servers with other options
  (``collab_server_factory("--CollabMCP.disabled_packs=awareness")``);
- ``mcp_session``: a connected, initialized MCP ``ClientSession`` (protocol 2025-11-25);
- :func:`connect` for either protocol revision, and :func:`join_room` to join
  a document's room over the collaboration websocket as a second collaborator.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

READY_TIMEOUT = 120.0  # seconds for a starting server to answer (a deadline: a healthy start takes a few)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Run a pack's async tests and fixtures with no set-up of its own (``collab-mcp[testing]``).

    pytest-asyncio's auto mode, unless the command line chose a mode, and one
    event loop per test unless the project set ``asyncio_default_fixture_loop_scope``.
    """
    if not config.pluginmanager.hasplugin("asyncio"):
        return
    if config.getoption("asyncio_mode", None) is None and config.getini("asyncio_mode") == "strict":
        config.option.asyncio_mode = "auto"  # strict is pytest-asyncio's default; auto runs strict tests too
    # pytest offers no public way to give another plugin's ini setting a default; without one
    # pytest-asyncio warns on every run. Only fill it in when the project left it unset.
    inicfg = getattr(config, "_inicfg", None)
    if isinstance(inicfg, dict) and "asyncio_default_fixture_loop_scope" not in inicfg:
        getattr(config, "_inicache", {})["asyncio_default_fixture_loop_scope"] = "function"


@dataclass
class CollabServer:
    """A running Jupyter server with collab-mcp."""

    root: Path
    port: int
    token: str
    process: subprocess.Popen
    log_path: Path
    data_dir: Path
    extra_args: tuple[str, ...] = ()
    ip: str = "127.0.0.1"
    events_path: Path | None = None
    base_url: str = "/"

    def option(self, name: str, default: str) -> str:
        """The value of a ``--Class.name=value`` server option it was started with."""
        prefix = f"--{name}="
        return next((a.removeprefix(prefix) for a in reversed(self.extra_args) if a.startswith(prefix)), default)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """What reached Jupyter's event bus so far (each record has ``__schema__``).

        ``event_type`` keeps collab-mcp events of that type (``tool_called``...).
        """
        if self.events_path is None or not self.events_path.exists():
            return []
        records = [json.loads(line) for line in self.events_path.read_text().splitlines() if line.strip()]
        if event_type is None:
            return records
        return [r for r in records if r.get("__schema__") == f"https://collab-mcp.jupyter.org/events/{event_type}"]

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}{self.base_url}"

    @property
    def mcp_url(self) -> str:
        return self.url + self.option("CollabMCP.endpoint", "mcp")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tracebacks(self) -> list[str]:
        """Tracebacks (and Rust panics) in the server log, except jupyter-server-ydoc's own report
        of a collaborator that disconnected while the room was sending to it (a race, not an error)."""
        found, block = [], None
        for line in self.log_text().splitlines():
            if line.startswith("[") or line.startswith("thread '"):  # a new log record, or a panic
                block = None
            if "Traceback (most recent call last)" in line or "panicked" in line:
                block = []
                found.append(block)
            if block is not None:
                block.append(line)
        texts = ["\n".join(b) for b in found]
        return [t for t in texts if not t.rstrip().endswith("tornado.websocket.WebSocketClosedError")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    base: Path,
    *extra_args: str,
    token: str | None = None,
    env: dict[str, str] | None = None,
    config_py: str = "",
    collab_mcp: bool = True,
) -> CollabServer:
    """Start ``collab-mcp serve`` on a temporary root and wait until it answers.

    ``config_py`` becomes the server's ``jupyter_server_config.py`` (for settings
    that are not plain values). Everything that reaches Jupyter's event bus is
    recorded; read it with :meth:`CollabServer.events`. ``collab_mcp=False``
    starts a plain Jupyter server instead (jupyter-server-ydoc, no collab-mcp),
    as remote mode finds one.
    """
    if not collab_mcp:
        config_py = 'c.ServerApp.jpserver_extensions = {"collab_mcp_core": False}\n' + config_py
    root, home = base / "root", base / "home"
    for folder in (root, home / "config", home / "data", home / "runtime", home / "cwd"):
        folder.mkdir(parents=True, exist_ok=True)
    events_path = base / "events.jsonl"
    record_events = f"import logging\nc.EventLogger.handlers = [logging.FileHandler({str(events_path)!r})]\n"
    (home / "config" / "jupyter_server_config.py").write_text(record_events + config_py)
    token = token if token is not None else secrets.token_hex(16)
    full_env = {**isolated_env(home), **(env or {})}
    # Another process (a kernel's ZMQ socket, say) can take the free port before
    # the server binds it; the server must then fail rather than move (port_retries=0),
    # and we try again on another port.
    for _attempt in range(5):
        server = _launch(base, root, home, token, full_env, extra_args, collab_mcp)
        server.events_path = events_path
        try:
            wait_until_ready(server)
            return server
        except PortTaken:
            server.stop()
    raise RuntimeError("could not find a free port for the test server after 5 attempts")


def isolated_env(home: Path) -> dict[str, str]:
    """This process's environment with Jupyter's config, data and runtime folders under ``home``."""
    for folder in ("config", "data", "runtime"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONUNBUFFERED": "1",
    }


class PortTaken(RuntimeError):
    """The server could not bind its port (start it with ``--ServerApp.port_retries=0``)."""


def _launch(
    base: Path, root: Path, home: Path, token: str, env: dict[str, str], extra_args: tuple[str, ...], collab_mcp: bool
) -> CollabServer:
    port = free_port()
    log_path = base / "server.log"
    if collab_mcp:
        launcher = ["collab_mcp_core.cli", "serve", f"--root-dir={root}", f"--port={port}", f"--token={token}"]
    else:
        launcher = [
            "jupyter_server", f"--ServerApp.root_dir={root}", f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
            f"--ServerApp.allow_root={os.name == 'posix' and os.geteuid() == 0}",
        ]
    cmd = [sys.executable, "-m", *launcher, "--ip=127.0.0.1", "--ServerApp.port_retries=0", *extra_args]
    base_url = next((a.split("=", 1)[1] for a in extra_args if a.startswith("--ServerApp.base_url=")), "/")
    base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    with open(log_path, "wb") as log:
        # No stdin: a server under test, like one under JupyterHub, has no TTY.
        process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=home / "cwd", env=env
        )
    return CollabServer(root, port, token, process, log_path, home / "data", tuple(extra_args), base_url=base_url)


def wait_until_ready(server: CollabServer) -> None:
    """Wait until a starting server answers ``api/status``; raise if it exits or takes too long."""
    process = server.process
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = server.log_text()
            if "already in use" in log or "no available port" in log:
                raise PortTaken(f"port {server.port} was taken before the server could bind it")
            raise RuntimeError(f"collab-mcp serve exited with {process.returncode}:\n{log[-4000:]}")
        try:
            request = urllib.request.Request(server.url + "api/status", headers=server.headers)
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200 and b"started" in answer.read():
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException):
            pass  # not up yet (or, briefly, something else answered on the port)
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"collab-mcp serve did not answer within {READY_TIMEOUT}s:\n{server.log_text()[-4000:]}")


@pytest.fixture(scope="module")
def collab_server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., CollabServer]]:
    """Start servers with extra options; each is stopped when the module's tests are done."""
    servers: list[CollabServer] = []

    def factory(*extra_args: str, **kwargs: Any) -> CollabServer:
        server = start_server(tmp_path_factory.mktemp("collab"), *extra_args, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def collab_server(collab_server_factory: Callable[..., CollabServer]) -> CollabServer:
    """A running server with every installed pack, shared by the module's tests."""
    return collab_server_factory()


@pytest.fixture
async def mcp_session(collab_server: CollabServer) -> AsyncIterator[Any]:
    """An initialized MCP ClientSession (2025-11-25) on ``collab_server``."""
    # The client's cancel scopes must be entered and left by one task, and pytest
    # may run a fixture's setup and teardown in different tasks: hold the
    # connection in a task of its own.
    ready: asyncio.Future = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        try:
            async with connect(collab_server) as session:
                ready.set_result(session)
                await done.wait()
        except BaseException as err:
            if not ready.done():
                ready.set_exception(err)
            raise

    holder = asyncio.create_task(hold())
    try:
        yield await ready
    finally:
        done.set()
        await holder


# -- MCP clients ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def connect(
    server: CollabServer, *, modern: bool = False, headers: dict[str, str] | None = None, **session_kwargs: Any
) -> AsyncIterator[Any]:
    """A connected MCP client: a ``ClientSession`` after ``initialize`` (2025-11-25),
    or with ``modern=True`` an ``mcp.Client`` speaking 2026-07-28 (no handshake)."""
    import httpx2
    from mcp import Client, ClientSession
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers=headers if headers is not None else server.headers, timeout=httpx2.Timeout(60))
    async with http:
        transport = streamable_http_client(server.mcp_url, http_client=http)
        if modern:
            async with Client(transport, mode="2026-07-28", **session_kwargs) as client:
                yield client
            return
        async with transport as (read, write), ClientSession(read, write, **session_kwargs) as session:
            await session.initialize()
            yield session


@contextlib.asynccontextmanager
async def connect_stdio(
    server: CollabServer, *args: str, token: str | None = None, errlog: Any = None, url: str | None = None,
    **session_kwargs: Any,
) -> AsyncIterator[Any]:
    """``collab-mcp connect server.url *args`` as a subprocess, through the SDK's stdio client:
    an initialized ``ClientSession``. The token goes in ``JUPYTER_TOKEN`` (``token`` overrides it);
    ``url`` replaces the server's (a proxy in front of it, say)."""
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = {**os.environ, "JUPYTER_TOKEN": server.token if token is None else token}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "collab_mcp_core.cli", "connect", url or server.url, *args], env=env
    )
    async with stdio_client(params, errlog=errlog or sys.stderr) as (read, write):
        async with ClientSession(read, write, **session_kwargs) as session:
            await session.initialize()
            yield session


async def call(session: Any, tool: str, **arguments: Any) -> Any:
    """Call a tool and return its structured content; fail the test on an error result."""
    result = await session.call_tool(tool, arguments)
    if result.is_error:
        raise AssertionError(f"{tool} failed: {result.content[0].text if result.content else result}")
    return result.structured_content


async def call_error(session: Any, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; return the error text the model would read."""
    result = await session.call_tool(tool, arguments)
    if not result.is_error:
        raise AssertionError(f"{tool} was expected to fail but returned {result.structured_content}")
    return result.content[0].text


# -- a second collaborator over the collaboration websocket -------------------------------------


@dataclass
class Collaborator:
    """A websocket client of a document's room, as JupyterLab is."""

    doc: Any
    awareness: Any
    room_id: str
    _ws: Any = field(repr=False)

    @property
    def disconnected(self) -> str | None:
        """None while the websocket is open; otherwise how it closed."""
        if self._ws.protocol is not None:
            return None
        return f"closed (code {self._ws.close_code}, reason {self._ws.close_reason!r})"

    @property
    def notebook(self) -> Any:
        from jupyter_ydoc import YNotebook

        return YNotebook(self.doc)

    @property
    def text(self) -> Any:
        import pycrdt

        return self.doc.get("source", type=pycrdt.Text)

    async def set_awareness(self, state: dict[str, Any]) -> None:
        """Publish a JupyterLab-shaped awareness state (``user``, ``cursors``)."""
        from pycrdt import create_awareness_message

        self.awareness.set_local_state(state)
        update = self.awareness.encode_awareness_update([self.awareness.client_id])
        await self._ws.write_message(create_awareness_message(update), binary=True)

    def others(self) -> dict[int, dict[str, Any]]:
        """Awareness states of everyone else in the room."""
        return {k: v for k, v in self.awareness.states.items() if k != self.awareness.client_id and v}

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "a change") -> Any:
        """Poll until ``predicate()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"the collaborator did not see {what} within {timeout}s")
            await asyncio.sleep(0.02)


def _collaborator_channel() -> type:
    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    from .remote_room import RoomChannel

    class CollaboratorChannel(RoomChannel):
        """A room channel whose frames, once the websocket is closed, are dropped as a browser drops them.

        pycrdt's Provider echoes every update it applies (a remote one too) back through ``send``: an update
        that arrived just before the server went away would otherwise fail the whole test with
        ``WebSocketClosedError`` from the provider's task group. The closure stays visible as
        :attr:`Collaborator.disconnected`, and the provider's reader ends when the socket does.
        """

        async def send(self, message: bytes) -> None:
            with contextlib.suppress(WebSocketClosedError, StreamClosedError):
                await super().send(message)

    return CollaboratorChannel


@contextlib.asynccontextmanager
async def join_room(server: CollabServer, path: str, kind: str = "notebook") -> AsyncIterator[Collaborator]:
    """Join the room of ``path`` over the collaboration websocket and sync its document.

    ``kind`` is ``notebook`` or ``file`` (a text file).
    """
    import pycrdt
    from tornado.httpclient import HTTPClient, HTTPRequest
    from tornado.websocket import websocket_connect

    _CollaboratorChannel = _collaborator_channel()

    file_format = "json" if kind == "notebook" else "text"
    body = json.dumps({"format": file_format, "type": kind})
    session = await asyncio.to_thread(
        lambda: HTTPClient().fetch(
            HTTPRequest(server.url + f"api/collaboration/session/{path}", method="PUT", body=body, headers=server.headers)
        )
    )
    info = json.loads(session.body)
    room_id = f"{info['format']}:{info['type']}:{info['fileId']}"
    ws_url = "ws" + server.url[4:] + f"api/collaboration/room/{room_id}?sessionId={info['sessionId']}"
    ws = await websocket_connect(HTTPRequest(ws_url, headers=server.headers))
    doc = pycrdt.Doc()
    awareness = pycrdt.Awareness(doc)
    provider = pycrdt.Provider(doc, _CollaboratorChannel(ws, room_id, awareness))
    try:
        async with provider:
            await asyncio.wait_for(provider.synced.wait(), 15)
            yield Collaborator(doc, awareness, room_id, ws)
    finally:
        ws.close()
