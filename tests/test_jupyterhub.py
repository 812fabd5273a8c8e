"""collab-mcp behind a real JupyterHub and configurable-http-proxy (slow: about 90 s).

The hub spawns single-user servers with SimpleLocalProcessSpawner and logs people
in with DummyAuthenticator; a service token with the admin role creates users,
starts servers and mints their API tokens. Everything else goes through the proxy,
at ``/user/NAME/``, as a client outside the hub would. The test installs
``configurable-http-proxy`` with npm (into a cache folder) when it is not on
PATH, and skips, saying why, only when that cannot be done.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from collab_mcp_core.testing import call, connect, free_port, join_room

pytest.importorskip("jupyterhub", reason="jupyterhub is in the dev dependency group: uv sync installs it")

PROXY_PACKAGE = "configurable-http-proxy@4"
PROXY_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "collab-mcp" / "configurable-http-proxy"
START_TIMEOUT = 120.0
SERVICE = "collab-mcp-test"


def proxy_command() -> str:
    """The configurable-http-proxy executable: on PATH, in the cache, or installed there with npm."""
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    cached = PROXY_CACHE / "node_modules" / ".bin" / "configurable-http-proxy"
    if cached.exists():
        return str(cached)
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("configurable-http-proxy is not installed and npm is missing, so it cannot be installed")
    PROXY_CACHE.mkdir(parents=True, exist_ok=True)
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(PROXY_CACHE), PROXY_PACKAGE],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if installed.returncode != 0 or not cached.exists():
        pytest.skip(f"npm could not install {PROXY_PACKAGE}: {installed.stderr.strip()[-500:]}")
    return str(cached)


@dataclass
class UserServer:
    """A user's server as clients outside the hub reach it: through the proxy, with a hub token."""

    url: str  # http://127.0.0.1:PORT/user/NAME/
    token: str

    @property
    def mcp_url(self) -> str:
        return self.url + "mcp"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Hub:
    url: str  # the proxy's public URL
    service_token: str
    homes: Path
    process: subprocess.Popen
    log_path: Path

    def api(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx2.request(
            method, f"{self.url}hub/api/{path}", json=body, timeout=30,
            headers={"Authorization": f"token {self.service_token}"},
        )
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}\n{self.log()[-3000:]}"
        return answer.json() if answer.content else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def start_server(self, name: str) -> UserServer:
        self.api("POST", f"users/{name}")
        self.api("POST", f"users/{name}/server")
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.api("GET", f"users/{name}").get("servers", {}).get("", {}).get("ready")):
            assert time.monotonic() < deadline, f"{name}'s server did not start:\n{self.log()[-4000:]}"
            time.sleep(0.5)
        token = self.api("POST", f"users/{name}/tokens", {"note": "collab-mcp test", "expires_in": 3600})["token"]
        return UserServer(f"{self.url}user/{name}/", token)

    def stop_server(self, name: str) -> None:
        httpx2.request("DELETE", f"{self.url}hub/api/users/{name}/server", timeout=60,
                       headers={"Authorization": f"token {self.service_token}"})
        deadline = time.monotonic() + START_TIMEOUT
        while self.api("GET", f"users/{name}").get("servers"):
            assert time.monotonic() < deadline, f"{name}'s server did not stop:\n{self.log()[-4000:]}"
            time.sleep(0.5)


def hub_config(base: Path, port: int, service_token: str, proxy: str) -> str:
    singleuser = Path(sys.executable).parent / "jupyterhub-singleuser"
    args = ["--allow-root"] if os.name == "posix" and os.geteuid() == 0 else []
    return "\n".join([
        f"c.JupyterHub.ip = '127.0.0.1'",
        f"c.JupyterHub.port = {port}",
        f"c.JupyterHub.hub_ip = '127.0.0.1'",
        f"c.JupyterHub.hub_port = {free_port()}",
        f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{free_port()}'",
        f"c.ConfigurableHTTPProxy.command = [{proxy!r}]",
        f"c.JupyterHub.db_url = 'sqlite:///{base / 'hub.sqlite'}'",
        f"c.JupyterHub.cookie_secret_file = {str(base / 'cookie_secret')!r}",
        f"c.JupyterHub.pid_file = {str(base / 'hub.pid')!r}",
        "c.JupyterHub.authenticator_class = 'dummy'",
        f"c.DummyAuthenticator.password = {secrets.token_hex(8)!r}",
        "c.Authenticator.allow_all = True",
        "c.JupyterHub.spawner_class = 'jupyterhub.spawner.SimpleLocalProcessSpawner'",
        f"c.SimpleLocalProcessSpawner.home_dir_template = {str(base / 'homes' / '{username}')!r}",
        f"c.Spawner.cmd = [{str(singleuser)!r}]",
        f"c.Spawner.args = {args!r}",
        "c.Spawner.http_timeout = 90",
        "c.Spawner.start_timeout = 120",
        f"c.JupyterHub.services = [{{'name': {SERVICE!r}, 'api_token': {service_token!r}}}]",
        f"c.JupyterHub.load_roles = [{{'name': 'admin', 'services': [{SERVICE!r}]}}]",
        "",
    ])


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    proxy = proxy_command()
    base = tmp_path_factory.mktemp("hub")
    (base / "homes").mkdir()
    port, service_token = free_port(), secrets.token_hex(24)
    (base / "jupyterhub_config.py").write_text(hub_config(base, port, service_token, proxy))
    log_path = base / "hub.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(base / "jupyterhub_config.py")],
            cwd=base, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    hub = Hub(f"http://127.0.0.1:{port}/", service_token, base / "homes", process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, f"jupyterhub exited:\n{hub.log()[-4000:]}"
        try:
            if httpx2.get(hub.url + "hub/api/", timeout=2).status_code == 200:
                break
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, f"jupyterhub did not answer:\n{hub.log()[-4000:]}"
        time.sleep(0.5)
    try:
        yield hub
    finally:
        process.send_signal(signal.SIGTERM)  # the hub stops the proxy and the servers it spawned
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


EMPTY_NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


async def test_collab_mcp_behind_jupyterhub(hub: Hub) -> None:
    alice = await asyncio.to_thread(hub.start_server, "alice")
    bob = await asyncio.to_thread(hub.start_server, "bob")
    notebook = hub.homes / "alice" / "hub.ipynb"
    notebook.write_text(json.dumps(EMPTY_NOTEBOOK))

    # Another user's hub token reaches alice's server through the proxy, and is refused: 403, not 401.
    async with httpx2.AsyncClient() as http:
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        mcp_headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        refused = await http.post(alice.mcp_url, json=initialize, headers={**mcp_headers, **bob.headers})
        assert refused.status_code == 403, refused.text
        nobody = await http.post(alice.mcp_url, json=initialize, headers=mcp_headers)
        assert nobody.status_code == 401
        health = await http.get(alice.mcp_url + "/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"

    async with join_room(alice, "hub.ipynb") as person, connect(alice) as session:
        # An insert through the proxy reaches the person in the room (also through the proxy).
        await call(session, "insert_notebook_cell", path="hub.ipynb", content="print('from the agent')", index=0)
        await person.wait_for(
            lambda: [str(c["source"]) for c in person.notebook.ycells][:1] == ["print('from the agent')"],
            what="the agent's cell",
        )
        # Progress streams through the proxy as it happens: the code waits until the test has
        # seen its first output's progress notification, which a buffering proxy would hold back.
        go = hub.homes / "alice" / "go"
        seen: list[str] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append(message or "")
            go.touch()

        code = (
            "import os, time\nprint('started', flush=True)\n"
            "deadline = time.time() + 60\n"
            "while not os.path.exists('go') and time.time() < deadline:\n    time.sleep(0.05)\n"
            "print('released' if os.path.exists('go') else 'never released')"
        )
        result = await session.call_tool(
            "execute_code", {"path": "hub.ipynb", "code": code, "timeout": 90}, progress_callback=on_progress
        )
        assert not result.is_error, result.content[0].text
        assert "released" in result.content[0].text and "never released" not in result.content[0].text
        assert seen, "no progress notification reached the client"

        # The answer that carried them was an SSE stream the proxy must not buffer.
        async with httpx2.AsyncClient() as http:
            sid = (await http.post(alice.mcp_url, json=initialize, headers={**mcp_headers, **alice.headers})).headers[
                "mcp-session-id"
            ]
            listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": {"progressToken": "p"}}}
            streamed = await http.post(alice.mcp_url, json=listing, headers={
                **mcp_headers, **alice.headers, "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"})
        assert streamed.headers["content-type"].startswith("text/event-stream")
        assert "no-cache" in streamed.headers["cache-control"]
        assert streamed.headers["x-accel-buffering"] == "no"

        # An edit just before the hub stops the server (SIGINT, no TTY) is saved.
        await call(session, "insert_notebook_cell", path="hub.ipynb", content="# saved at stop", index=1)
    await asyncio.to_thread(hub.stop_server, "alice")
    sources = ["".join(c["source"]) for c in json.loads(notebook.read_text())["cells"]]
    assert sources[0] == "print('from the agent')" and "# saved at stop" in sources, sources
    await asyncio.to_thread(hub.stop_server, "bob")
