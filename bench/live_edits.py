"""Live edits with a person in the room (issue 15): latency tails and websocket traffic per edit.

    .venv/bin/python bench/live_edits.py --quick       # 25 inserts + 25 replaces per server and round, 2 rounds
    .venv/bin/python bench/live_edits.py               # 200 + 200 per server and round, 4 rounds
    .venv/bin/python bench/live_edits.py --servers collab-mcp,jupyter-mcp-server,jupyter-mcp-live
    .venv/bin/python bench/live_edits.py --servers collab-mcp,collab-mcp@../before,jupyter-mcp-server

A ``collab-mcp@DIR`` row runs collab-mcp from another checkout (its own ``.venv``: ``uv sync
--all-packages --all-extras`` there), so a change is measured before/after in one interleaved run.

A websocket collaborator joins each notebook's room in this process and event loop, beside the
MCP client (as an agent host that also renders the notebook would). Each edit (append a cell,
replace a cell's source) is timed from the call's start to its reply and to the collaborator's
copy showing it. Rounds interleave the servers (A B, then B A, ...) on a fresh notebook each.
Every frame the collaborator's websocket receives is counted, with its bytes, by kind: document
updates (SYNC update), awareness updates, and anything else (sync steps, save replies, text);
frames are attributed to the edit block they arrive in (including ``--grace`` seconds after the
block's last edit) and divided by its edits. Prints median, p95, p99 per operation and server,
the peer/ours ratio, the frames and bytes per edit, the correctness checks and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import servers
from compare import open_sessions, percentile
from peers import ADAPTERS, Cell, call
from workload import StepResult, Watcher, _timed, base_cells, check_notebook, inserted_source, updated_source, write_notebook

from collab_mcp_core.testing import join_room

OPS = ("insert", "update", "insert seen", "update seen")
LABELS = {"insert": "insert a cell", "update": "replace a cell's source",
          "insert seen": "insert seen", "update seen": "replace seen"}
KINDS = ("document", "awareness", "other")


class FrameTap:
    """Counts the frames (and bytes) a collaborator's websocket receives, by kind, as they arrive."""

    def __init__(self, ws: Any) -> None:
        self.frames: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        deliver = ws.on_message

        def counted(message: Any) -> Any:
            if message is not None:
                self._record(message)
            return deliver(message)

        ws.on_message = counted  # tornado's protocol calls it through the instance, as each frame arrives

    def _record(self, message: bytes | str) -> None:
        if isinstance(message, bytes) and message[:2] == b"\x00\x02":
            kind = "document"
        elif isinstance(message, bytes) and message[:1] == b"\x01":
            kind = "awareness"
        else:
            kind = "other"
        self.frames[kind] += 1
        self.bytes[kind] += len(message)

    def take(self) -> tuple[Counter[str], Counter[str]]:
        """The counts since the last take."""
        taken = self.frames.copy(), self.bytes.copy()
        self.frames.clear()
        self.bytes.clear()
        return taken


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="25 inserts and 25 replaces per round, 2 rounds")
    parser.add_argument("--servers", default="collab-mcp,jupyter-mcp-server", help="comma-separated, ours first")
    parser.add_argument("--edits", type=int, help="inserts (and as many replaces) per server and round (default 200)")
    parser.add_argument("--rounds", type=int, help="rounds (default 4, quick 2)")
    parser.add_argument("--base-cells", type=int, default=10, help="cells in each notebook before the edits")
    parser.add_argument("--grace", type=float, default=0.5,
                        help="seconds after a block's last edit whose frames still count for that block")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait after each server's round")
    args = parser.parse_args(argv)
    args.edits = args.edits or (25 if args.quick else 200)
    args.rounds = args.rounds or (2 if args.quick else 4)
    args.servers = args.servers.split(",")
    return args


async def live_round(args: argparse.Namespace, name: str, session: Any, server: servers.Server, label: str,
                     traffic: dict) -> StepResult:
    """Append ``args.edits`` cells then replace their sources, a collaborator watching; count its frames."""
    adapter, out = ADAPTERS[servers.row_kind(name)], StepResult()
    path = f"{label}.ipynb"
    base = base_cells(args.base_cells, label)
    write_notebook(server.root / path, base)
    async with join_room(server, path) as collaborator:
        tap = FrameTap(collaborator._ws)
        watcher = Watcher(collaborator)
        await adapter.prepare(session, path, kernel=False)
        await asyncio.sleep(args.grace)
        tap.take()  # the join's sync and the prepare are not edits
        ids: list[str | None] = []
        for k in range(args.edits):
            source, want = inserted_source(label, k), args.base_cells + k + 1

            def inserted(src: str = source, count: int = want) -> bool:
                cells = watcher.nb.ycells
                return len(cells) == count and str(cells[count - 1]["source"]) == src

            ids.append(await _timed(out, "insert", adapter.insert(session, path, source), watcher, inserted))
        await asyncio.sleep(args.grace)
        _add_traffic(traffic, name, "insert", tap.take(), args.edits)
        for k in range(args.edits):
            source, index = updated_source(label, k), args.base_cells + k

            def updated(src: str = source, i: int = index) -> bool:
                cells = watcher.nb.ycells
                return len(cells) > i and str(cells[i]["source"]) == src

            await _timed(out, "update", adapter.update(session, path, Cell(index, ids[k]), source), watcher, updated)
        await asyncio.sleep(args.grace)
        _add_traffic(traffic, name, "update", tap.take(), args.edits)
    if servers.row_kind(name) == "collab-mcp":
        await call(session, "save_notebook", {"path": path})
    expected = [c["source"] for c in base] + [updated_source(label, k) for k in range(args.edits)]
    out.checks += await check_notebook(server, path, expected)
    return out


def _add_traffic(traffic: dict, name: str, op: str, counts: tuple[Counter, Counter], edits: int) -> None:
    entry = traffic.setdefault((name, op), {"edits": 0, "frames": Counter(), "bytes": Counter()})
    entry["edits"] += edits
    entry["frames"].update(counts[0])
    entry["bytes"].update(counts[1])


async def run(args: argparse.Namespace) -> None:
    base = Path(tempfile.mkdtemp(prefix="collab-mcp-live-"))
    print(f"# live_edits: {args.edits} inserts + {args.edits} replaces per server and round, {args.rounds} rounds, "
          f"servers {args.servers}, {args.grace:g} s grace, {args.settle:g} s settle")
    print(f"# host: {platform.node()}, {platform.python_version()}, load average {servers.load_average()} "
          "at start (the machine is shared)")
    started: dict[str, servers.Server] = {}
    results: dict[str, list[StepResult]] = {}
    traffic: dict = {}
    t0 = time.monotonic()
    try:
        async with contextlib.AsyncExitStack() as stack:
            sessions = await open_sessions(args.servers, base, started, stack)
            for round_no in range(args.rounds):
                shift = round_no % len(args.servers)
                for name in args.servers[shift:] + args.servers[:shift]:
                    result = await live_round(args, name, sessions[name], started[name], f"live-r{round_no}", traffic)
                    results.setdefault(name, []).append(result)
                    errors = f"; {len(result.errors)} ERROR(S): {result.errors[0]}" if result.errors else ""
                    print(f"round {round_no} {name:20} " + " | ".join(result.checks) + errors, flush=True)
                    await asyncio.sleep(args.settle)
    finally:
        for server in started.values():
            server.stop()
    print(f"\n# {time.monotonic() - t0:.0f} s; load average at end {servers.load_average()}")
    report(args, results, traffic)


def report(args: argparse.Namespace, results: dict[str, list[StepResult]], traffic: dict) -> None:
    ours = args.servers[0]
    print(f"\n{'operation':24} {'server':20} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'p95/med':>7} {'x ours':>7}")
    for op in OPS:
        medians = {}
        for name in args.servers:
            times = [t for r in results.get(name, []) for t in r.times.get(op, [])]
            if not times:
                continue
            median = medians[name] = statistics.median(times)
            ratio = "" if name == ours or ours not in medians else f"{median / medians[ours]:6.2f}x"
            print(f"{LABELS[op]:24} {name:20} {len(times):5} {median * 1000:10.2f} {percentile(times, 95) * 1000:8.2f} "
                  f"{percentile(times, 99) * 1000:8.2f} {percentile(times, 95) / median:7.2f} {ratio:>7}")
    print("\n# websocket frames / bytes the collaborator received per edit (block total / edits)")
    print(f"{'edit':24} {'server':20} " + " ".join(f"{k + ' fr':>12} {k + ' B':>12}" for k in KINDS)
          + f" {'total fr':>9} {'total B':>9}")
    for op in ("insert", "update"):
        for name in args.servers:
            entry = traffic.get((name, op))
            if not entry:
                continue
            n = entry["edits"]
            cells = " ".join(f"{entry['frames'][k] / n:12.2f} {entry['bytes'][k] / n:12.0f}" for k in KINDS)
            print(f"{LABELS[op]:24} {name:20} {cells} {sum(entry['frames'].values()) / n:9.2f} "
                  f"{sum(entry['bytes'].values()) / n:9.0f}")
    errors = sum(len(r.errors) for rs in results.values() for r in rs)
    failed = [c for rs in results.values() for r in rs for c in r.checks if "FAIL" in c]
    print(f"\n# correctness: {len(failed)} failed check(s), {errors} error response(s) (per-round lines above)")


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers are stopped on kill
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
