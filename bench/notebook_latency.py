"""Per-tool latency of the notebook pack, through a real MCP client against a real server.

    uv run python bench/notebook_latency.py [calls]

Prints median and p95 (milliseconds) for get_notebook on a 1,000-cell notebook
(full and outline, with the size of each answer),
insert and update of a cell in that notebook, execute of `1+1`, and
edit-to-collaborator latency (from sending update_notebook_cell until a second
collaborator on the room's websocket sees the new source), and from a collaborator's
keystroke until wait_for_notebook_changes answers with it. Not a test: figures
depend on the machine.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import nbformat

from collab_mcp_core.testing import call, connect, join_room, start_server

BIG = "big.ipynb"


def write_big(root: Path, cells: int = 1000) -> None:
    nb = nbformat.v4.new_notebook()
    for i in range(cells):
        if i % 4 == 3:
            nb.cells.append(nbformat.v4.new_markdown_cell(f"## Section {i}\nSome notes about step {i}."))
        else:
            cell = nbformat.v4.new_code_cell(f"x_{i} = {i} * 2\nprint(x_{i})")
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{i * 2}\n")]
            cell.execution_count = i + 1
            nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_code_cell("1+1"))
    (root / BIG).write_text(nbformat.writes(nb))


async def timed(n: int, fn: Callable[[int], Awaitable[object]]) -> list[float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        await fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(name: str, times: list[float]) -> None:
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    print(f"{name:<44} median {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms   (n={len(times)})")


async def bench(server, calls: int) -> None:
    async with connect(server) as mcp, join_room(server, BIG) as ada:
        view = await call(mcp, "get_notebook", path=BIG, limit=2000)
        assert view["cell_count"] == 1001
        last = view["cells"][-1]["cell_id"]
        target = view["cells"][500]["cell_id"]

        report(
            "get_notebook (1,000 cells, all, outputs)",
            await timed(max(10, calls // 5), lambda i: call(mcp, "get_notebook", path=BIG, limit=2000)),
        )
        report(
            "get_notebook (1,000 cells, view=outline)",
            await timed(
                max(10, calls // 5), lambda i: call(mcp, "get_notebook", path=BIG, limit=2000, view="outline")
            ),
        )
        for view in ("full", "outline"):
            answer = await mcp.call_tool("get_notebook", {"path": BIG, "limit": 2000, "view": view})
            size = len(json.dumps(answer.structured_content).encode()) + len(answer.content[0].text.encode())
            print(f"{'answer size, view=' + view:<44} {size / 1000:8.1f} kB (structured content + text)")
        report(
            "get_notebook (1,000 cells, first 100)", await timed(calls, lambda i: call(mcp, "get_notebook", path=BIG))
        )
        report(
            "insert_notebook_cell (append)",
            await timed(calls, lambda i: call(mcp, "insert_notebook_cell", path=BIG, content=f"y = {i}")),
        )
        report(
            "update_notebook_cell (cell 500)",
            await timed(
                calls,
                lambda i: call(
                    mcp, "update_notebook_cell", path=BIG, cell_id=target, content=f"x_500 = {i}\nprint(x_500)"
                ),
            ),
        )
        await call(mcp, "execute_notebook_cell", path=BIG, cell_id=last)  # starts the kernel
        report(
            "execute_notebook_cell (1+1)",
            await timed(calls, lambda i: call(mcp, "execute_notebook_cell", path=BIG, cell_id=last)),
        )
        report("execute_code (1+1)", await timed(calls, lambda i: call(mcp, "execute_code", path=BIG, code="1+1")))

        ycells = ada.notebook.ycells
        index = next(i for i, c in enumerate(ycells) if c.get("id") == target)  # once: the poll must be cheap
        pending: list[asyncio.Task] = []

        async def edit_seen(i: int) -> None:
            """From sending the call until the collaborator's copy has the new source (not the reply)."""
            content = f"x_500 = 'seen {i}'\nprint(x_500)"
            pending.append(asyncio.create_task(call(mcp, "update_notebook_cell", path=BIG, cell_id=target, content=content)))
            while str(ycells[index]["source"]) != content:
                await asyncio.sleep(0.0005)

        seen = await timed(calls, edit_seen)
        await asyncio.gather(*pending)
        report("edit to collaborator (update seen on websocket)", seen)

        async def keystroke_to_answer(i: int) -> float:
            """From a collaborator's keystroke until wait_for_notebook_changes answers with it."""
            version = (await call(mcp, "read_notebook_cell", path=BIG, cell_id=target))["document_version"]
            waiting = asyncio.create_task(
                call(mcp, "wait_for_notebook_changes", path=BIG, since_version=version, timeout=30)
            )
            await asyncio.sleep(0.1)
            typed = time.perf_counter()
            ycells[index]["source"].insert(0, "#")
            assert not (await waiting)["timed_out"]
            return (time.perf_counter() - typed) * 1000

        report("keystroke to wait_for_notebook_changes answer", [await keystroke_to_answer(i) for i in range(calls)])


def main(calls: int) -> None:
    with tempfile.TemporaryDirectory() as base:
        # No rate limit: the benchmark calls as fast as it can on purpose.
        server = start_server(Path(base), "--Limits.rate_per_second=0")
        try:
            write_big(server.root)
            asyncio.run(bench(server, calls))
        finally:
            server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
