"""Execute-only before/after probe: wall median and server CPU per execute_notebook_cell, interleaved.

    python bench/execute_cpu.py collab-mcp@../wt-cf collab-mcp@. --calls 40 --blocks 6 \
        --collab-arg=--CollabMCP.disabled_packs=awareness

Each row's server runs one notebook; blocks of ``--calls`` executions alternate between the rows.
Server CPU is the Jupyter server process's utime+stime (/proc/PID/stat, the kernel excluded) over a
block, divided by the calls: less sensitive to the machine's load than wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import servers  # noqa: E402
from peers import CollabMCP, call  # noqa: E402
from workload import Cell, code_cell, result_text, write_notebook  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="+")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--collab-arg", action="append", default=[])
    args = parser.parse_args()
    servers.COLLAB_ARGS = (*servers.COLLAB_ARGS, *args.collab_arg)
    base = Path(tempfile.mkdtemp(prefix="execute-cpu-"))
    print(f"# load average {servers.load_average()} at start; {args.blocks} blocks x {args.calls} calls per row")
    adapter = CollabMCP()
    started, walls, cpus = {}, {r: [] for r in args.rows}, {r: [] for r in args.rows}
    try:
        async with contextlib.AsyncExitStack() as stack:
            sessions = {}
            for i, row in enumerate(args.rows):
                started[row] = servers.start(row, base / f"s{i}")
                sessions[row] = await stack.enter_async_context(servers.session(started[row]))
                cells = [code_cell("x0", "x = 0")] + [code_cell("x1", "x = x + 1\nf'value-{x}'")]
                write_notebook(started[row].root / "e.ipynb", cells)
                await adapter.prepare(sessions[row], "e.ipynb", kernel=True)
                for _ in range(10):  # warm
                    await adapter.execute(sessions[row], "e.ipynb", Cell(1, "x1"))
            for block in range(args.blocks):
                order = args.rows if block % 2 == 0 else args.rows[::-1]
                for row in order:
                    pid = started[row].pid
                    c0 = cpu_s(pid)
                    for _ in range(args.calls):
                        t = time.perf_counter()
                        result = await adapter.execute(sessions[row], "e.ipynb", Cell(1, "x1"))
                        walls[row].append(time.perf_counter() - t)
                        assert "value-" in result_text(result), result_text(result)[:200]
                    cpus[row].append((cpu_s(pid) - c0) / args.calls)
                    await asyncio.sleep(0.3)
    finally:
        for server in started.values():
            server.stop()
    print(f"# load average {servers.load_average()} at end")
    print(f"{'row':40} {'wall median ms':>15} {'server CPU ms/call (median of blocks)':>38}")
    for row in args.rows:
        print(f"{row:40} {statistics.median(walls[row]) * 1000:15.2f} "
              f"{statistics.median(cpus[row]) * 1000:20.2f}  blocks: "
              + " ".join(f"{c * 1000:.2f}" for c in cpus[row]))


if __name__ == "__main__":
    asyncio.run(main())
