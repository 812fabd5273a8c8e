"""Many agents and people editing one notebook at once: throughput, latency, and nothing lost.

    .venv/bin/python bench/load.py                   # 20 MCP sessions + 2 websocket collaborators, 60 s
    .venv/bin/python bench/load.py --duration 15     # a quick run

Each agent (its own MCP session) loops as fast as the server answers: insert a cell, replace the
source of one of its cells, read a cell or a page of the notebook, delete one of its cells now and
then. Each person (a websocket collaborator, as JupyterLab is) inserts a cell or types into one of
their cells every ``--human-interval`` seconds. Every party remembers what it wrote; at the end the
notebook is saved and checked: every surviving cell present with its last source (no lost edit),
no deleted cell back, no duplicated id, the people's copies equal the server's, and the file on
disk equals the document. Prints throughput, latency percentiles per tool, error responses, and
the server's memory before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import servers
from compare import percentile
from workload import base_cells, write_notebook

from collab_mcp_core.testing import connect, join_room

PATH = "load.ipynb"


@dataclass
class Party:
    """What one agent or person wrote: the cells it owns now (id -> last source), its timings, its errors."""

    name: str
    cells: dict[str, str] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)

    def add(self, op: str, seconds: float) -> None:
        self.times.setdefault(op, []).append(seconds)


async def agent(server: servers.Server, party: Party, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    async with connect(server) as session:

        async def tool(name: str, **arguments: Any) -> Any:
            started = time.perf_counter()
            result = await session.call_tool(name, arguments)
            party.add(name, time.perf_counter() - started)
            if result.is_error:
                party.errors.append(f"{name}: {result.content[0].text[:200] if result.content else result}")
                return None
            return result.structured_content

        k = 0
        while time.monotonic() < deadline:
            roll = rng.random()
            if not party.cells or roll < 0.35:
                source = f"# {party.name} cell {k}\na_{k} = {k}"
                done = await tool("insert_notebook_cell", path=PATH, content=source, index=rng.choice([-1, 0]))
                if done:
                    party.cells[done["cell_id"]] = source
                k += 1
            elif roll < 0.70:
                cell_id = rng.choice(list(party.cells))
                source = f"# {party.name} cell {cell_id} v{k}\na = {k}"
                k += 1
                if await tool("update_notebook_cell", path=PATH, cell_id=cell_id, content=source):
                    party.cells[cell_id] = source
            elif roll < 0.80:
                cell_id = rng.choice(list(party.cells))
                if await tool("delete_notebook_cell", path=PATH, cell_id=cell_id):
                    del party.cells[cell_id]
                    party.deleted.add(cell_id)
            elif roll < 0.90:
                await tool("read_notebook_cell", path=PATH, cell_id=rng.choice(list(party.cells)))
            else:
                await tool("get_notebook", path=PATH, limit=50, include_outputs=False)


async def person(collaborator: Any, party: Party, deadline: float, interval: float, seed: int) -> None:
    """Insert cells and type into them through the collaborator's own copy, as a browser would."""
    rng = random.Random(seed)
    nb = collaborator.notebook
    k = 0
    while time.monotonic() < deadline:
        await asyncio.sleep(interval)
        if not party.cells or rng.random() < 0.5:
            cell_id = f"{party.name}-{k}"
            source = f"# {party.name} typed {k}"
            ycell = nb.create_ycell({"id": cell_id, "cell_type": "code", "source": source, "metadata": {},
                                     "outputs": [], "execution_count": None})
            with nb.ydoc.transaction(origin=party.name):
                nb.ycells.insert(rng.randint(0, len(nb.ycells)), ycell)
            party.cells[cell_id] = source
        else:
            cell_id = rng.choice(list(party.cells))
            for ycell in nb.ycells:
                if ycell.get("id") == cell_id:
                    text = f"\n# more {k}"
                    source = ycell["source"]  # a local reference: re-assigning the key would empty the Text
                    with nb.ydoc.transaction(origin=party.name):
                        source += text  # typing at the end of the cell
                    party.cells[cell_id] += text
                    break
            else:
                party.errors.append(f"own cell {cell_id} vanished")
        k += 1


async def read_all_cells(session: Any) -> list[tuple[str, str]]:
    """(id, source) of every cell in the room, read in pages (get_notebook returns 5,000 at most)."""
    cells: list[tuple[str, str]] = []
    start: int | None = 0
    while start is not None:
        view = (await session.call_tool(
            "get_notebook", {"path": PATH, "start": start, "limit": 5000, "include_outputs": False}
        )).structured_content
        cells += [(c["cell_id"], c["source"]) for c in view["cells"]]
        start = view["next_start"]
    return cells


SETTLE_TIMEOUT = 60.0  # seconds the people's copies and the room get to converge after the load


def cells_of(ycells: Any) -> list[tuple[str, str]]:
    return [(str(c.get("id")), str(c["source"])) for c in ycells]


def check(expected: dict[str, str], deleted: set[str], where: str, cells: list[tuple[str, str]]) -> list[str]:
    """Problems of one copy of the notebook against what every party wrote."""
    ids = [i for i, _ in cells]
    found = dict(cells)
    problems = []
    if len(set(ids)) != len(ids):
        problems.append(f"{len(ids) - len(set(ids))} duplicated id(s)")
    lost = [i for i, s in expected.items() if found.get(i) != s]
    if lost:
        problems.append(f"{len(lost)} lost or wrong cell(s), e.g. {lost[0]!r}: {found.get(lost[0])!r} "
                        f"instead of {expected[lost[0]]!r}")
    back = [i for i in ids if i in deleted]
    if back:
        problems.append(f"{len(back)} deleted cell(s) present")
    extra = [i for i in ids if i not in expected and i not in deleted]
    if extra:
        problems.append(f"{len(extra)} unexpected cell(s)")
    return [f"{where}: {p}" for p in problems]


async def run(args: argparse.Namespace) -> int:
    base = Path(tempfile.mkdtemp(prefix="collab-mcp-load-"))
    server = servers.start("collab-mcp", base)
    print(f"# load: {args.agents} agents + {args.humans} people on one notebook for {args.duration:g} s; "
          f"collab-mcp {servers.peer_version('collab-mcp')} ({' '.join(servers.COLLAB_ARGS)}), pid {server.pid}")
    print(f"# load average at start {servers.load_average()} (2-core machine shared with others)")
    problems: list[str] = []
    try:
        write_notebook(server.root / PATH, base_cells(args.base_cells, "load"))
        expected = {c["id"]: c["source"] for c in base_cells(args.base_cells, "load")}
        async with contextlib.AsyncExitStack() as stack:
            async with connect(server) as session:
                await session.call_tool("create_notebook_session", {"path": PATH, "start_kernel": False})
            people = [await stack.enter_async_context(join_room(server, PATH)) for _ in range(args.humans)]
            before = servers.memory(server.pid)
            print(f"# memory before: {before}")
            agents = [Party(f"agent{i}") for i in range(args.agents)]
            humans = [Party(f"human{i}") for i in range(args.humans)]
            started = time.monotonic()
            deadline = started + args.duration
            await asyncio.gather(
                *(agent(server, p, deadline, seed=i) for i, p in enumerate(agents)),
                *(person(c, p, deadline, args.human_interval, seed=100 + i)
                  for i, (c, p) in enumerate(zip(people, humans))),
            )
            elapsed = time.monotonic() - started
            after_load = servers.memory(server.pid)
            parties = agents + humans
            for party in parties:
                expected.update(party.cells)
            deleted = set().union(*(p.deleted for p in parties))
            print(f"# load over after {elapsed:.1f} s; checking", flush=True)
            async with connect(server) as session:
                # Under overload the room can be seconds behind the people's websockets: wait until
                # everyone converged (what a lost edit would never do), and say how long it took.
                settled = time.monotonic()
                people_edits = {k: v for h in humans for k, v in h.cells.items()}
                room_caught_up: float | None = None  # when the room had every person's last edit
                while True:
                    server_cells = await read_all_cells(session)
                    if room_caught_up is None and people_edits.items() <= dict(server_cells).items():
                        room_caught_up = time.monotonic() - settled
                    converged = all(cells_of(c.notebook.ycells) == server_cells for c in people)
                    if converged or time.monotonic() - settled > SETTLE_TIMEOUT:
                        break
                    await asyncio.sleep(0.5)
                caught_up = f"{room_caught_up:.1f} s" if room_caught_up is not None else "never"
                print(f"# converged {time.monotonic() - settled:.1f} s after the load (the room had the people's "
                      f"last edits after {caught_up})"
                      if converged else f"# NOT converged {SETTLE_TIMEOUT:g} s after the load")
                saved = await session.call_tool("save_notebook", {"path": PATH})
                if saved.is_error:
                    problems.append(f"save_notebook failed: {saved.content[0].text[:200]}")
            disk = json.loads((server.root / PATH).read_text())["cells"]
            disk_cells = [(str(c.get("id")), "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                          for c in disk]
            problems += check(expected, deleted, "server document", server_cells)
            for i, collaborator in enumerate(people):
                if collaborator.disconnected:
                    problems.append(f"human{i}'s websocket {collaborator.disconnected} during the run")
                if cells_of(collaborator.notebook.ycells) != server_cells:
                    problems.append(f"human{i}'s copy differs from the server's document")
            if disk_cells != server_cells:
                problems.append(f"disk after save differs from the document ({len(disk_cells)} vs "
                                f"{len(server_cells)} cells)")
        report(parties, elapsed, before, after_load, servers.memory(server.pid), problems, len(server_cells))
    finally:
        server.stop()
    return 1 if problems or any(p.errors for p in parties) else 0


def report(parties: list[Party], elapsed: float, before: Any, after_load: Any, after: Any, problems: list[str],
           cells: int) -> None:
    by_tool: dict[str, list[float]] = {}
    for party in parties:
        for op, times in party.times.items():
            by_tool.setdefault(op, []).extend(times)
    total = sum(len(t) for t in by_tool.values())
    print(f"\n{total} tool calls in {elapsed:.1f} s: {total / elapsed:.0f} calls/s "
          f"(final notebook: {cells} cells)")
    print(f"{'tool':24} {'n':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    everything = [t for ts in by_tool.values() for t in ts]
    for op, times in sorted(by_tool.items()) + [("all", everything)]:
        if times:
            print(f"{op:24} {len(times):6} {statistics.median(times) * 1000:8.1f} {percentile(times, 90) * 1000:8.1f} "
                  f"{percentile(times, 99) * 1000:8.1f} {max(times) * 1000:8.1f}")
    errors = [e for p in parties for e in p.errors]
    print(f"\nerror responses: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    human_edits = sum(len(p.cells) for p in parties if p.name.startswith("human"))
    print(f"people's cells at the end: {human_edits}")
    print("correctness: " + ("ok (no lost edit, no deleted cell back, no duplicated id, copies equal, "
                             "disk equals the document after save)" if not problems else "FAIL"))
    for problem in problems:
        print("  " + problem)
    print(f"memory before: {before}\nmemory at the end of the load: {after_load}\nmemory after the checks: {after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=20, help="concurrent MCP sessions (default 20)")
    parser.add_argument("--humans", type=int, default=2, help="websocket collaborators (default 2)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--human-interval", type=float, default=0.2, help="seconds between a person's edits")
    parser.add_argument("--base-cells", type=int, default=50, help="cells in the notebook at the start")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the server is stopped on kill
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show up when redirected to a file
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
