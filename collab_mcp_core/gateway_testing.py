"""A real Jupyter Enterprise Gateway on 127.0.0.1, for tests and benchmarks of gateway kernels.

Enterprise Gateway (3.x) needs jupyter_server 1.x, which cannot share an
environment with collab-mcp (jupyter_server 2): it is installed from PyPI into
a virtual environment of its own under ``~/.cache/collab-mcp-tests`` (or
``$COLLAB_MCP_TEST_CACHE``) on first use. The gateway runs with a token,
``list_kernels`` on, and kernel specs only it has:

- ``gateway_python``: a plain Python kernel (ipykernel of the gateway's environment);
- ``gateway_locked``: one the gateway lists to user ``collab`` but refuses to start for them
  (for testing how refusals reach the agent). It is authorized for ``collaborator`` only: the
  gateway's listing filter matches users by substring, its launch check by name.

Kernels are started as :data:`KERNEL_USERNAME` (the gateway refuses ``root``):
pass :func:`server_env` to the Jupyter server's environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .testing import free_port

CACHE = Path(os.environ.get("COLLAB_MCP_TEST_CACHE", Path.home() / ".cache" / "collab-mcp-tests"))
REQUIREMENTS = ["jupyter-enterprise-gateway>=3.2,<4", "ipykernel"]
KERNEL_USERNAME = "collab"
GATEWAY_KERNEL = "gateway_python"
LOCKED_KERNEL = "gateway_locked"
READY_TIMEOUT = 60.0


class GatewayUnavailable(RuntimeError):
    """Enterprise Gateway could not be installed (no network to PyPI, no pip...)."""


@dataclass
class EnterpriseGateway:
    """A running Enterprise Gateway."""

    port: int
    token: str
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def server_args(self) -> tuple[str, ...]:
        """Options for ``collab-mcp serve`` (or ``jupyter server``) to put its kernels on this gateway."""
        return (f"--gateway-url={self.url}", f"--GatewayClient.auth_token={self.token}")

    def api(self, path: str) -> object:
        """GET ``api/{path}`` from the gateway, with its token."""
        request = urllib.request.Request(f"{self.url}/api/{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the gateway shuts its kernels down on SIGTERM
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def server_env() -> dict[str, str]:
    """Environment entries the Jupyter server needs for this gateway (its kernels' user)."""
    return {"KERNEL_USERNAME": KERNEL_USERNAME}


def ensure_gateway_venv() -> Path:
    """The ``bin`` folder of a venv with Enterprise Gateway, installing it from PyPI the first time."""
    venv = CACHE / "enterprise-gateway"
    marker = venv / ".installed"
    CACHE.mkdir(parents=True, exist_ok=True)
    with _locked(CACHE / "enterprise-gateway.lock"):
        if marker.exists():
            return venv / "bin"
        shutil.rmtree(venv, ignore_errors=True)
        python = venv / "bin" / "python"
        uv = shutil.which("uv")
        if uv:
            steps = [[uv, "venv", "-q", "--python", sys.executable, str(venv)],
                     [uv, "pip", "install", "-q", "--python", str(python), *REQUIREMENTS]]
        else:
            steps = [[sys.executable, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "-q", *REQUIREMENTS]]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise GatewayUnavailable(
                    f"could not install {' '.join(REQUIREMENTS)} ({' '.join(step[:3])} exited {done.returncode}): "
                    f"{(done.stderr or done.stdout).strip()[-800:]}"
                )
        marker.write_text(" ".join(REQUIREMENTS) + "\n")
    return venv / "bin"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Two test processes must not install into one venv at once.
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_kernelspecs(share: Path, bin_dir: Path) -> None:
    """The gateway-only kernel specs under ``share/kernels``."""
    python = str(bin_dir / "python")
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    specs = {
        GATEWAY_KERNEL: {"argv": argv, "display_name": "Python (gateway only)", "language": "python"},
        LOCKED_KERNEL: {
            "argv": argv, "display_name": "Python (locked)", "language": "python",
            "metadata": {"process_proxy": {
                "class_name": "enterprise_gateway.services.processproxies.processproxy.LocalProcessProxy",
                "config": {"authorized_users": f"{KERNEL_USERNAME}orator"},
            }},
        },
    }
    for name, spec in specs.items():
        folder = share / "kernels" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kernel.json").write_text(json.dumps(spec))


def start_gateway(base: Path, *extra_args: str) -> EnterpriseGateway:
    """Install (once) and start an Enterprise Gateway on a free 127.0.0.1 port; wait until it answers."""
    bin_dir = ensure_gateway_venv()
    share, home = base / "share" / "jupyter", base / "home"
    write_kernelspecs(share, bin_dir)
    home.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",  # its native python3 kernel runs its python
        "JUPYTER_PATH": str(share),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    for _attempt in range(5):  # another process may take the free port first
        port = free_port()
        log_path = base / "gateway.log"
        cmd = [
            str(bin_dir / "jupyter-enterprisegateway"), "--ip=127.0.0.1", f"--port={port}", "--port_retries=0",
            f"--EnterpriseGatewayApp.auth_token={token}", "--EnterpriseGatewayApp.list_kernels=True", *extra_args,
        ]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       cwd=home, env=env)
        gateway = EnterpriseGateway(port, token, process, log_path)
        if _wait_until_ready(gateway):
            return gateway
        gateway.stop()
        if "already in use" not in gateway.log_text():
            raise RuntimeError(f"Enterprise Gateway did not start:\n{gateway.log_text()[-4000:]}")
    raise RuntimeError("could not find a free port for Enterprise Gateway after 5 attempts")


def _wait_until_ready(gateway: EnterpriseGateway) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and gateway.process.poll() is None:
        try:
            gateway.api("kernelspecs")
            return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    return False
