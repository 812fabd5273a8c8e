"""Where an edit's time goes in remote mode (issue 12): from an MCP call's start to a collaborator seeing it.

    .venv/bin/python bench/remote_latency.py            # 60 edits per measurement
    .venv/bin/python bench/remote_latency.py --edits 20

A plain Jupyter server (jupyter-server-ydoc, no collab-mcp), `collab-mcp connect` over stdio, and a
websocket collaborator in this process. Medians (ms) of:

- insert seen / insert reply: `insert_notebook_cell` from the call's start until the collaborator's
  copy shows the cell, and until the reply arrives;
- the same with the awareness pack disabled (no presence or cursor written with each edit);
- MCP round trip: a `ping` over stdio (client, pipes, the connect process's SDK, and back);
- room relay: a cell appended to a RemoteRoom's document in this process until the collaborator sees
  it (the agent's websocket client, pycrdt's Provider, the server's room, the collaborator's socket);
- pycrdt: encoding one inserted cell's update and applying it to a second document.

The remainder (insert seen minus MCP round trip, minus room relay) is the tool's own work in the
connect process: the host's call pipeline, the notebook pack's insert, the flush to the websocket.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from collab_mcp_core.connect import Target
from collab_mcp_core.remote_room import RemoteRoom
from collab_mcp_core.testing import connect_stdio, join_room, start_server


CELLS = 100  # cells in each notebook before the edits (compare.py's edit step uses 100 too)


def write_notebook(root: Path, name: str, count: int) -> None:
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "outputs": [], "execution_count": None,
              "source": f"x{i} = {i}"} for i in range(count)]
    (root / name).write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


class SeenClock:
    """When the collaborator's document first held ``count`` cells (perf_counter), from its observer."""

    def __init__(self, collaborator: Any) -> None:
        self.collaborator = collaborator
        self.waiting: tuple[int, asyncio.Future[float]] | None = None
        collaborator.doc.observe(lambda _event: asyncio.get_running_loop().call_soon(self._check))

    def _check(self) -> None:
        if self.waiting and not self.waiting[1].done() and len(self.collaborator.notebook.ycells) >= self.waiting[0]:
            self.waiting[1].set_result(time.perf_counter())

    def expect(self, count: int) -> asyncio.Future[float]:
        self.waiting = (count, asyncio.get_running_loop().create_future())
        return self.waiting[1]


async def mcp_inserts(
    server: Any, name: str, edits: int, cells: int, *args: str
) -> tuple[list[float], list[float], list[float]]:
    """Seen and reply times of ``edits`` inserts through collab-mcp connect, and ping round trips."""
    write_notebook(server.root, name, cells)
    seen, replies, pings = [], [], []
    async with connect_stdio(server, "--mode", "remote", *args, errlog=open(os.devnull, "w")) as mcp, \
            join_room(server, name) as ada:
        clock = SeenClock(ada)
        await mcp.call_tool("insert_notebook_cell", {"path": name, "content": "warm-up"})
        await asyncio.sleep(1.0)
        for i in range(edits):
            expected = clock.expect(len(ada.notebook.ycells) + 1)
            started = time.perf_counter()
            result = await mcp.call_tool("insert_notebook_cell", {"path": name, "content": f"y = {i}"})
            replies.append(time.perf_counter() - started)
            assert not result.is_error, result
            seen.append(await asyncio.wait_for(expected, 10) - started)
            started = time.perf_counter()
            await mcp.send_ping()
            pings.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
    return seen, replies, pings


async def room_relay(server: Any, name: str, edits: int, cells: int) -> list[float]:
    """A cell appended to a RemoteRoom's document here, until the collaborator sees it."""
    write_notebook(server.root, name, cells)
    room = RemoteRoom(Target(server.url, server.token), name, ("json", "notebook"))
    await room.start()
    times = []
    try:
        async with join_room(server, name) as ada:
            clock = SeenClock(ada)
            for i in range(edits):
                expected = clock.expect(len(ada.notebook.ycells) + 1)
                started = time.perf_counter()
                room.document.append_cell({"cell_type": "code", "source": f"z = {i}", "metadata": {}, "outputs": []})
                times.append(await asyncio.wait_for(expected, 10) - started)
                await asyncio.sleep(0.05)
    finally:
        await room.stop()
    return times


def pycrdt_round(edits: int) -> list[float]:
    """Encode one appended cell's update and apply it to a second document."""
    import pycrdt
    from jupyter_ydoc import YNotebook

    source, target = pycrdt.Doc(), pycrdt.Doc()
    nb, updates = YNotebook(source), []
    source.observe(lambda event: updates.append(event.update))
    YNotebook(target)
    times = []
    for i in range(edits):
        started = time.perf_counter()
        nb.append_cell({"cell_type": "code", "source": f"w = {i}", "metadata": {}, "outputs": []})
        message = pycrdt.create_update_message(updates[-1])
        target.apply_update(pycrdt.read_message(message[2:]))
        times.append(time.perf_counter() - started)
    return times


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.2f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--cells", type=int, default=CELLS, help="cells in each notebook before the edits")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="collab-remote-latency-"))
    server = start_server(base, collab_mcp=False)
    try:
        seen, replies, pings = await mcp_inserts(server, "a.ipynb", args.edits, args.cells)
        quiet_seen, quiet_replies, _ = await mcp_inserts(
            server, "b.ipynb", args.edits, args.cells, "--CollabMCP.disabled_packs=awareness"
        )
        relay = await room_relay(server, "c.ipynb", args.edits, args.cells)
        crdt = pycrdt_round(args.edits)
    finally:
        server.stop()
    print(f"# remote-mode edit latency, {args.edits} edits each on {args.cells}-cell notebooks, medians (ms); "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"insert seen by the collaborator        {ms(seen)}")
    print(f"insert reply                           {ms(replies)}")
    print(f"insert seen, awareness pack disabled   {ms(quiet_seen)}")
    print(f"insert reply, awareness pack disabled  {ms(quiet_replies)}")
    print(f"MCP round trip over stdio (ping)       {ms(pings)}")
    print(f"room relay (RemoteRoom -> collaborator){ms(relay)}")
    print(f"pycrdt encode + apply of one cell      {ms(crdt)}")
    rest = statistics.median(seen) - statistics.median(pings) - statistics.median(relay)
    print(f"the rest: the tool's work in connect   {rest * 1000:7.2f}")


if __name__ == "__main__":
    if sys.platform != "win32":
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
