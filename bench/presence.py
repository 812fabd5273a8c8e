"""What presence by default and kernel healing cost per call, through a real MCP client.

    uv run python bench/presence.py [calls]

Runs the same calls against two servers, one with ``c.AwarenessPack.auto_presence``
on (the default) and one with it off, with a collaborator in the room so the
agent is seated: get_notebook and insert_notebook_cell on a small notebook,
and execute_code of ``1+1`` (each run first checks the kernel is alive and, when
it is idle, that it answers kernel_info: the healing check, whose round trip is
printed alone at the end). Prints medians and
p95 in milliseconds, and the kernel_info round trip alone. Not a test: figures
depend on the machine.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from collab_mcp_core.testing import call, connect, join_room, start_server

sys.path.insert(0, str(Path(__file__).parent))
from notebook_latency import report, timed  # noqa: E402

NOTEBOOK = "small.ipynb"


async def bench(server, calls: int, label: str) -> None:
    async with connect(server) as mcp, join_room(server, NOTEBOOK) as ada:
        await ada.set_awareness({"user": {"username": "ada", "name": "Ada", "display_name": "Ada"}})
        await call(mcp, "execute_code", path=NOTEBOOK, code="1+1")  # starts the kernel
        report(f"[{label}] get_notebook (10 cells)",
               await timed(calls, lambda i: call(mcp, "get_notebook", path=NOTEBOOK)))
        report(f"[{label}] insert_notebook_cell",
               await timed(calls, lambda i: call(mcp, "insert_notebook_cell", path=NOTEBOOK, content=f"y = {i}")))
        report(f"[{label}] execute_code (1+1)",
               await timed(calls, lambda i: call(mcp, "execute_code", path=NOTEBOOK, code="1+1")))


def kernel_info_round_trip(calls: int) -> None:
    """The healing check alone: one kernel_info request and its reply, on a local ipykernel."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel()
    try:
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            client.kernel_info(reply=True, timeout=10)
            times.append((time.perf_counter() - started) * 1000)
        report("kernel_info round trip (the healing check)", times)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main(calls: int) -> None:
    for label, option in (("presence on", "--AwarenessPack.auto_presence=True"),
                          ("presence off", "--AwarenessPack.auto_presence=False")):
        with tempfile.TemporaryDirectory() as base:
            server = start_server(Path(base), "--Limits.rate_per_second=0", option)
            try:
                nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"x = {i}") for i in range(10)])
                (server.root / NOTEBOOK).write_text(nbformat.writes(nb))
                asyncio.run(bench(server, calls, label))
            finally:
                server.stop()
    kernel_info_round_trip(calls)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
