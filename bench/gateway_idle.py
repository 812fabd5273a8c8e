"""The Jupyter server's CPU while a kernel sleeps silently for 10 s: on an Enterprise Gateway, and local.

    uv run python bench/gateway_idle.py [seconds]

Starts a real Enterprise Gateway on 127.0.0.1 (installed on first use, see
collab_mcp_core/gateway_testing.py) and collab-mcp with ``--gateway-url``, runs
``time.sleep(seconds)`` through ``execute_code`` and prints the CPU time the
Jupyter server process used during the call (the gateway and the kernel are
other processes). The same run on a local kernel follows for comparison (the
local kernel is a child of the server and is not counted). A server that polls
its kernel's messages in a loop shows about 100% here.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import psutil

from collab_mcp_core.gateway_testing import GATEWAY_KERNEL, server_env, start_gateway
from collab_mcp_core.testing import call, connect, start_server


async def measure(server, kernel_name: str, seconds: float) -> tuple[float, float]:
    """(server CPU seconds, wall seconds) during one silent ``time.sleep(seconds)`` run."""
    (server.root / "idle.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    process = psutil.Process(server.process.pid)
    async with connect(server) as mcp:
        await call(mcp, "create_notebook_session", path="idle.ipynb", kernel_name=kernel_name)
        await call(mcp, "execute_code", path="idle.ipynb", code="1")  # connected and warm
        await asyncio.sleep(1)
        before, began = process.cpu_times(), time.monotonic()
        result = await call(mcp, "execute_code", path="idle.ipynb", code=f"import time; time.sleep({seconds})",
                            timeout=seconds + 30)
        after, wall = process.cpu_times(), time.monotonic() - began
    assert result["status"] == "ok", result
    return (after.user + after.system) - (before.user + before.system), wall


def report(label: str, cpu: float, wall: float) -> None:
    print(f"{label}: server CPU {cpu:.3f} s over {wall:.2f} s = {100 * cpu / wall:.1f}% of one core")


def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as base:
        gateway = start_gateway(Path(base) / "gateway")
        try:
            server = start_server(Path(base) / "gw", "--Limits.rate_per_second=0", *gateway.server_args(), env=server_env())
            try:
                report(f"gateway kernel, {seconds:g} s sleep", *asyncio.run(measure(server, GATEWAY_KERNEL, seconds)))
            finally:
                server.stop()
        finally:
            gateway.stop()
        server = start_server(Path(base) / "local", "--Limits.rate_per_second=0")
        try:
            report(f"local kernel, {seconds:g} s sleep", *asyncio.run(measure(server, "python3", seconds)))
        finally:
            server.stop()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
