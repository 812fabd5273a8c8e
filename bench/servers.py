"""Start collab-mcp and the peer Jupyter MCP servers side by side, and read their memory.

Each peer lives in its own virtual environment under ``~/.cache/collab-mcp-bench/<peer>``
(created on first use with ``uv venv`` + ``uv pip install`` from PyPI); collab-mcp runs from
this checkout's ``.venv``. Every server gets its own Jupyter config/data/runtime folders, a
fresh root, a random token and a free 127.0.0.1 port.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from collab_mcp_core.testing import CollabServer, connect, connect_stdio, free_port, isolated_env, wait_until_ready

CACHE = Path(os.environ.get("COLLAB_MCP_BENCH_CACHE", Path.home() / ".cache" / "collab-mcp-bench"))

COLLAB_ARGS = ("--Limits.rate_per_second=0",)
PLAIN_CONFIG = 'c.ServerApp.jpserver_extensions = {"collab_mcp_core": False}\n'

# PyPI requirements of each peer's venv (jupyter-collaboration gives the room the websocket collaborator joins).
PEER_REQUIREMENTS = {
    "jupyter-mcp-server": ["jupyter-mcp-server", "jupyter-collaboration", "ipykernel"],
    "jupyter-mcp-live": ["jupyter-mcp-live", "jupyter-collaboration", "ipykernel"],
}

# jupyter-mcp-live registers no tool unless told which (PEERS.md).
LIVE_TOOLS = [
    "setup_notebook", "view_notebook", "add_code_cell", "edit_code_cell", "execute_cell", "delete_cell", "read_cell",
]
LIVE_CONFIG = "c.MCPExtensionApp.mcp_tools = {!r}\n".format([f"jupyter_mcp_live.execution_tools:{t}" for t in LIVE_TOOLS])


@dataclass
class Server(CollabServer):
    """A running Jupyter server with an MCP endpoint: collab-mcp or a peer.

    Remote-mode rows have their MCP server outside Jupyter: ``mcp_process`` (the peer's standalone
    server, at ``standalone_url``) or, for collab-mcp, ``collab-mcp connect`` over stdio (started by
    :func:`session`).
    """

    name: str = ""
    standalone_url: str | None = None
    mcp_process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def mcp_url(self) -> str:
        return self.standalone_url or self.url + "mcp"

    def stop(self) -> None:
        if self.mcp_process is not None and self.mcp_process.poll() is None:
            self.mcp_process.terminate()
            self.mcp_process.wait(15)
        super().stop()


#: Rows where the MCP server runs outside Jupyter, against a Jupyter server without it.
REMOTE_ROWS = {"collab-mcp-remote": "collab-mcp", "jupyter-mcp-server-standalone": "jupyter-mcp-server"}


def checkout_of(name: str) -> Path | None:
    """The checkout of a ``collab-mcp@DIR`` row (another version of collab-mcp, for before/after runs)."""
    return Path(name.split("@", 1)[1]).resolve() if name.startswith("collab-mcp@") else None


def row_kind(name: str) -> str:
    """The server a row runs: ``collab-mcp@DIR`` rows are collab-mcp."""
    return "collab-mcp" if checkout_of(name) else name


def session(server: Server) -> contextlib.AbstractAsyncContextManager:
    """An MCP client session of ``server``'s row: HTTP, or stdio to ``collab-mcp connect`` in remote mode."""
    if server.name == "collab-mcp-remote":
        return connect_stdio(server, "--mode", "remote", errlog=open(server.log_path.with_name("connect.log"), "w"))
    return connect(server)


def ensure_peer_venv(peer: str) -> Path:
    """The peer's venv python, installing it from PyPI the first time."""
    venv = CACHE / peer
    python = venv / "bin" / "python"
    marker = venv / ".bench-installed"
    if marker.exists():
        return python
    uv = shutil.which("uv")
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"installing {peer} into {venv} ...", flush=True)
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        subprocess.run([uv, "pip", "install", "-q", "--python", str(python), *PEER_REQUIREMENTS[peer]], check=True)
        freeze = [uv, "pip", "freeze", "--python", str(python)]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS[peer]], check=True)
        freeze = [str(python), "-m", "pip", "freeze"]
    # The marker records what was installed (and that the install finished).
    marker.write_text(subprocess.run(freeze, capture_output=True, text=True, check=True).stdout)
    return python


def peer_version(name: str) -> str:
    checkout = checkout_of(name)
    if checkout is not None:
        commit = subprocess.run(["git", "-C", str(checkout), "log", "-1", "--format=%h"],
                                capture_output=True, text=True, check=False)
        return f"at {commit.stdout.strip() or '?'} ({checkout})"
    name = REMOTE_ROWS.get(name, name)
    if name == "collab-mcp":
        from importlib.metadata import version

        return version("collab-mcp")
    python = CACHE / name / "bin" / "python"
    out = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or "?"


def _homes(base: Path) -> tuple[Path, dict[str, str]]:
    root, home = base / "root", base / "home"
    for folder in (root, home / "cwd"):
        folder.mkdir(parents=True, exist_ok=True)
    env = isolated_env(home)
    env.pop("VIRTUAL_ENV", None)  # peers run from their own venvs
    return root, env


def start(name: str, base: Path, extra_args: tuple[str, ...] = ()) -> Server:
    """Start ``name`` (collab-mcp, jupyter-mcp-server or jupyter-mcp-live, or a remote row) on a fresh root under ``base``."""
    base.mkdir(parents=True, exist_ok=True)
    root, env = _homes(base)
    token, port = secrets.token_hex(16), free_port()
    common = [f"--port={port}", "--ip=127.0.0.1", "--no-browser"]
    if name == "collab-mcp-remote":
        # A plain Jupyter server (jupyter-server-ydoc, no collab-mcp) from this checkout's venv.
        (Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.py").write_text(PLAIN_CONFIG)
        cmd = [sys.executable, "-m", "jupyter_server", *common, f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--allow-root"]
    elif name == "jupyter-mcp-server-standalone":
        python = ensure_peer_venv("jupyter-mcp-server")
        env["PATH"] = f"{python.parent}:{env.get('PATH', '')}"
        (Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.py").write_text(
            'c.ServerApp.jpserver_extensions = {"jupyter_mcp_server": False}\n')
        cmd = [str(python.parent / "jupyter"), "server", *common, f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--allow-root"]
    elif row_kind(name) == "collab-mcp":
        # The auth pack's rate limit would refuse some of a benchmark's calls; the peers have
        # none, so it is off here (and said so in the output).
        checkout = checkout_of(name)
        python = str(checkout / ".venv" / "bin" / "python") if checkout else sys.executable
        cmd = [python, "-m", "collab_mcp_core.cli", "serve", f"--root-dir={root}", f"--token={token}",
               "--ip=127.0.0.1", f"--port={port}", *COLLAB_ARGS]
    else:
        python = ensure_peer_venv(name)
        env["PATH"] = f"{python.parent}:{env.get('PATH', '')}"  # kernels start from the peer's venv
        cmd = [str(python.parent / "jupyter"), "server", *common, f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--allow-root"]
        if name == "jupyter-mcp-server":
            cmd += ["--JupyterMCPServerExtensionApp.document_url=local",
                    "--JupyterMCPServerExtensionApp.code_sandbox_url=local"]
        elif name == "jupyter-mcp-live":
            (Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.py").write_text(LIVE_CONFIG)
    cmd += list(extra_args)
    log_path = base / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=base / "home" / "cwd", env=env)
    server = Server(root, port, token, process, log_path, base / "home" / "data", name=name)
    try:
        wait_until_ready(server)
        if name == "jupyter-mcp-server-standalone":
            _start_standalone(server, env, base)
    except RuntimeError as err:
        server.stop()
        raise RuntimeError(f"{name}: {err}") from None
    return server


def _start_standalone(server: Server, env: dict[str, str], base: Path) -> None:
    """jupyter-mcp-server's own MCP server, outside Jupyter, on the Jupyter server (ARCHITECTURE.md's command line)."""
    python = ensure_peer_venv("jupyter-mcp-server")
    mcp_port = free_port()
    cmd = [str(python.parent / "jupyter-mcp-server"), "start", "--transport", "streamable-http",
           "--port", str(mcp_port), "--jupyter-url", server.url.rstrip("/"), "--jupyter-token", server.token,
           "--document-id", "notebook.ipynb", "--insecure-mcp-noauth"]
    with open(base / "standalone.log", "wb") as log:
        server.mcp_process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=base)
    server.standalone_url = f"http://127.0.0.1:{mcp_port}/mcp"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.mcp_process.poll() is not None:
            raise RuntimeError("jupyter-mcp-server start exited:\n" + (base / "standalone.log").read_text()[-3000:])
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", mcp_port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("jupyter-mcp-server start did not listen within 60 s")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared: print them beside the figures)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- memory (no psutil: /proc) -----------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (kernels and their helpers)."""
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = Path(f"/proc/{parent}/task").iterdir()
            kids = [int(k) for t in tasks for k in (t / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            kids = []
        found += kids
        pending += kids
    return found


@dataclass
class Memory:
    """Peak (VmHWM) and current (VmRSS) resident memory in MiB, of the server and of its children."""

    server_peak: float
    server_rss: float
    children_peak: float
    children: int

    def __str__(self) -> str:
        return (f"server peak {self.server_peak:.0f} MiB (now {self.server_rss:.0f}); "
                f"{self.children} child process(es) peak sum {self.children_peak:.0f} MiB")


def memory(pid: int) -> Memory:
    kids = children(pid)
    return Memory(
        server_peak=_status_kb(pid, "VmHWM") / 1024,
        server_rss=_status_kb(pid, "VmRSS") / 1024,
        children_peak=sum(_status_kb(k, "VmHWM") for k in kids) / 1024,
        children=len(kids),
    )
