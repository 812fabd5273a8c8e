"""What durability costs and what it saves: edit latency with the flush before each answer, and a crash.

    uv run python bench/durability.py [edits]

1. ``edits`` inserts into a notebook nobody else has open, one call at a time: median and
   95th-percentile call latency (each answer waits until the edit is committed to the update store).
2. The same with a person typing in the room meanwhile (updates the store also takes).
3. SIGKILL right after the last answer, restart on the same folders: how many of the inserts the
   room and the file hold after the restart, and how long the rebuilt room took to open.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from collab_mcp_core.testing import call, connect, join_room, start_server
from collab_mcp_notebook.testing import write_notebook

ARGS = ("--Limits.rate_per_second=0", "--YDocExtension.document_save_delay=30")


def figures(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(f"{name}: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms over {len(ms)} calls")


async def timed_inserts(mcp, path: str, n: int, tag: str) -> list[float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        await call(mcp, "insert_notebook_cell", path=path, content=f"{tag}_{i} = {i}", index=-1)
        times.append(time.perf_counter() - started)
    return times


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        server = start_server(base, *ARGS)
        write_notebook(server.root, "bench.ipynb", [{"source": "first = 1"}])
        async with connect(server) as mcp:
            await call(mcp, "get_notebook", path="bench.ipynb")  # the room is open before timing
            figures("insert_notebook_cell alone", await timed_inserts(mcp, "bench.ipynb", n, "alone"))
            async with join_room(server, "bench.ipynb") as human:
                stop = asyncio.Event()

                async def type_along() -> None:
                    cell = human.notebook.ycells[0]["source"]
                    while not stop.is_set():
                        cell.insert(len(cell), "x")
                        await asyncio.sleep(0.02)

                typing = asyncio.create_task(type_along())
                figures("insert_notebook_cell while a person types", await timed_inserts(mcp, "bench.ipynb", n, "typed"))
                stop.set()
                await typing
        server.process.kill()
        server.process.wait(10)
        kept_on_disk = len(json.loads((server.root / "bench.ipynb").read_text())["cells"])

        server = start_server(base, *ARGS)
        started = time.perf_counter()
        async with connect(server) as mcp:
            count = (await call(mcp, "get_notebook", path="bench.ipynb", view="outline"))["cell_count"]
        opened = time.perf_counter() - started
        server.stop()
        print(
            f"after SIGKILL: the file held {kept_on_disk} of {2 * n + 1} cells; after the restart the room holds "
            f"{count} (connecting and reading the rebuilt room: {opened * 1000:.0f} ms)"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
