"""collab-mcp side by side with the peer Jupyter MCP servers, on the same machine, in the same run.

    .venv/bin/python bench/compare.py --quick          # a couple of minutes
    .venv/bin/python bench/compare.py                  # the issue's sizes (1,000 cells, 200/200/100, 50 runs)
    .venv/bin/python bench/compare.py --servers collab-mcp,jupyter-mcp-server --rounds 5
    .venv/bin/python bench/compare.py --remote --quick # remote mode: collab-mcp connect vs jupyter-mcp-server start

The peers (jupyter-mcp-server, jupyter-mcp-live) are installed from PyPI the first time, each in
its own venv under ~/.cache/collab-mcp-bench; collab-mcp runs from this checkout. All servers run
at once on 127.0.0.1 with a token; the same MCP SDK client drives them. Each round runs every step
on every server, the server order rotating per round (A B C, B C A, ...), so machine drift hits
all of them. Prints per step and server: median, p95, throughput, the peer/ours median ratio;
then each run's correctness verdicts (disk and room), and each server's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import platform
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import servers
from peers import ADAPTERS, ADAPTERS_REMOTE
from workload import Sizes, StepResult, step_edit, step_execute, step_read

STEPS = ("read", "edit", "execute", "live")
# Operation rows in the order they are printed, with the step that produces them.
OPS = [("read", "read"), ("edit", "insert"), ("edit", "update"), ("edit", "delete"), ("execute", "execute"),
       ("live", "insert"), ("live", "update"), ("live", "delete"),
       ("live", "insert seen"), ("live", "update seen"), ("live", "delete seen")]
TARGET_SPEEDUP = 2.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: 100-cell read, 20 inserts/updates, 10 deletes, 5 executes, 2 rounds")
    parser.add_argument("--servers", default=None, help="comma-separated, ours first")
    parser.add_argument("--remote", action="store_true",
                        help="remote-mode rows: collab-mcp connect (stdio, a Jupyter server without collab-mcp) vs "
                             "jupyter-mcp-server's standalone server")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--rounds", type=int, help="rounds per server (default 3, quick 2)")
    for name, default in vars(Sizes()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"default {default}")
    parser.add_argument("--read-page", type=int, default=None,
                        help="cells per get_notebook call when collab-mcp reads a notebook (default: all in one call)")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds to wait after each server's step, so its deferred work (a room's save a "
                             "second after the last change, say) does not run during the next server's step")
    parser.add_argument("--keep", action="store_true", help="keep the servers' folders (paths are printed)")
    parser.add_argument("--collab-arg", action="append", default=[], metavar="--Class.trait=value",
                        help="an option for every collab-mcp row's server (repeat it), e.g. "
                             "--collab-arg=--CollabMCP.disabled_packs=awareness for a before/after run")
    args = parser.parse_args(argv)
    servers.COLLAB_ARGS = (*servers.COLLAB_ARGS, *args.collab_arg)
    sizes = Sizes(read_cells=100, reads=10, base_cells=10, inserts=20, updates=20, deletes=10, executes=5) \
        if args.quick else Sizes()
    for name in vars(sizes):
        if getattr(args, name) is not None:
            setattr(sizes, name, getattr(args, name))
    if sizes.deletes > sizes.inserts // 2:
        parser.error("--deletes must be at most half of --inserts (every other inserted cell is deleted)")
    args.sizes = sizes
    ADAPTERS["collab-mcp"].page = args.read_page or sizes.read_cells  # the remote row shares this adapter
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.servers = (args.servers or ",".join(ADAPTERS_REMOTE if args.remote else ADAPTERS)).split(",")
    ADAPTERS.update(ADAPTERS_REMOTE)
    args.steps = args.steps.split(",")
    return args


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def open_sessions(names: list[str], base: Path, started: dict[str, servers.Server],
                        stack: contextlib.AsyncExitStack) -> dict[str, Any]:
    """Start each server under ``base`` (into ``started``, which the caller stops) and open an MCP session on ``stack``."""
    sessions = {}
    for name in names:
        started[name] = servers.start(name, base / name.replace("/", "_"))
        extra = " ".join(servers.COLLAB_ARGS) if servers.row_kind(name) == "collab-mcp" else ""
        print(f"# {name} {servers.peer_version(name)} {extra} pid {started[name].pid} on {started[name].url}")
        sessions[name] = await stack.enter_async_context(servers.session(started[name]))
    return sessions


async def run(args: argparse.Namespace) -> None:
    sizes: Sizes = args.sizes
    base = Path(tempfile.mkdtemp(prefix="collab-mcp-compare-"))
    print(f"# compare: {sizes}, {args.rounds} rounds, servers {args.servers}, {args.settle:g} s settle after each step")
    if args.read_page:
        print(f"# collab-mcp reads {args.read_page} cells per get_notebook call (its read time is the sum of the pages)")
    print(f"# host: {platform.node()}, {platform.python_version()}, load average "
          f"{servers.load_average()} at start (the machine is shared)")
    started: dict[str, servers.Server] = {}
    results: dict[tuple[str, str], list[StepResult]] = {}
    t0 = time.monotonic()
    try:
        async with contextlib.AsyncExitStack() as stack:  # sessions close before their servers stop
            sessions = await open_sessions(args.servers, base, started, stack)
            for round_no in range(args.rounds):
                order = args.servers[round_no % len(args.servers):] + args.servers[:round_no % len(args.servers)]
                for step in args.steps:
                    for name in order:
                        adapter, session, server = ADAPTERS[servers.row_kind(name)], sessions[name], started[name]
                        label = f"{step}-r{round_no}"
                        if step == "read":
                            result = await step_read(adapter, session, server, label, sizes)
                        elif step == "execute":
                            result = await step_execute(adapter, session, server, label, sizes)
                        else:
                            result = await step_edit(adapter, session, server, label, sizes, live=step == "live")
                        results.setdefault((step, name), []).append(result)
                        errors = f"; {len(result.errors)} ERROR(S): {result.errors[0]}" if result.errors else ""
                        line = f"round {round_no} {step:8} {name:20} " + " | ".join(result.checks) + errors
                        print(line, flush=True)
                        await asyncio.sleep(args.settle)
            memory = {name: servers.memory(server.pid) for name, server in started.items()}
    finally:
        for server in started.values():
            server.stop()
    print(f"\n# {time.monotonic() - t0:.0f} s; load average at end {servers.load_average()}")
    report(args, results, memory)
    if args.keep:
        print(f"# folders kept under {base}")


def report(args: argparse.Namespace, results: dict, memory: dict) -> None:
    ours = args.servers[0]
    print(f"\n{'step':10} {'operation':13} {'server':20} {'n':>5} {'median ms':>10} {'p95 ms':>9} "
          f"{'ops/s':>8} {'x ours':>7}")
    misses = []
    for step, op in OPS:
        medians = {}
        for name in args.servers:
            times = [t for r in results.get((step, name), []) for t in r.times.get(op, [])]
            if not times:
                continue
            medians[name] = statistics.median(times)
            ratio = medians[name] / medians[ours] if ours in medians else float("nan")
            print(f"{step:10} {op:13} {name:20} {len(times):5} {medians[name] * 1000:10.2f} "
                  f"{percentile(times, 95) * 1000:9.2f} {len(times) / sum(times):8.1f} "
                  f"{'' if name == ours else f'{ratio:6.2f}x':>7}")
        peers = [m for n, m in medians.items() if n != ours]
        if ours in medians and peers and min(peers) / medians[ours] < TARGET_SPEEDUP:
            misses.append(f"{step}/{op}: best peer {min(peers) * 1000:.2f} ms vs ours {medians[ours] * 1000:.2f} ms "
                          f"({min(peers) / medians[ours]:.2f}x, target {TARGET_SPEEDUP}x)")
    print("\n# peak memory (VmHWM from /proc; children are kernels)")
    for name, mem in memory.items():
        print(f"{name:20} {mem}")
    errors = sum(len(r.errors) for rs in results.values() for r in rs)
    failed = [c for rs in results.values() for r in rs for c in r.checks if "FAIL" in c]
    print(f"\n# correctness: {len(failed)} failed check(s), {errors} error response(s) (per-run lines above)")
    seen = [t for r in results.get(("live", ours), []) for op in ("insert seen", "update seen", "delete seen")
            for t in r.times.get(op, [])]
    if seen:
        print(f"# edit-to-collaborator median for {ours}: {statistics.median(seen) * 1000:.2f} ms (target < 10 ms)")
    read = [t for r in results.get(("read", ours), []) for t in r.times.get("read", [])]
    if read:
        print(f"# read of {args.sizes.read_cells} cells, median for {ours}: {statistics.median(read) * 1000:.2f} ms"
              + (" (target < 100 ms at 1,000 cells)" if args.sizes.read_cells >= 1000 else ""))
    print("# targets missed (2x the best peer):" if misses else "# every step at least 2x faster than the best peer")
    for miss in misses:
        print("  " + miss)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers are stopped on kill
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
