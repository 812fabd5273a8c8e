"""The benchmark workload: generated notebooks, the four steps, and the correctness checks.

Steps (issue 7):
1. ``read``: read an N-cell notebook with outputs, ``reads`` times;
2. ``edit``: append ``inserts`` cells one by one, replace the sources of ``updates`` of them,
   delete ``deletes`` of them (every other one, from the end, so earlier positions stay valid);
3. ``execute``: run ``executes`` cells of ``x = x + 1`` and check each returned its value;
4. ``live``: step 2 again while a websocket collaborator is in the room, timing from each call's
   start until the collaborator's copy of the document shows the change.

Every step records per-operation seconds; edit steps end with :func:`check_notebook`, which
compares the notebook on disk and in the room with what the edits must have produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peers import Adapter, Cell, call, result_text
from servers import Server

from collab_mcp_core.testing import join_room


@dataclass
class Sizes:
    read_cells: int = 1000
    reads: int = 30
    base_cells: int = 20
    inserts: int = 200
    updates: int = 200
    deletes: int = 100
    executes: int = 50


@dataclass
class StepResult:
    """Seconds per operation, by operation name, and the correctness verdicts of the run."""

    times: dict[str, list[float]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, op: str, seconds: float) -> None:
        self.times.setdefault(op, []).append(seconds)


# -- generated notebooks -------------------------------------------------------------------------


def code_cell(cell_id: str, source: str, outputs: list | None = None, count: int | None = None) -> dict:
    return {"id": cell_id, "cell_type": "code", "metadata": {}, "source": source,
            "outputs": outputs or [], "execution_count": count}


def write_notebook(path: Path, cells: list[dict]) -> None:
    """A fresh nbformat 4.5 file (written before any room exists for it)."""
    nb = {"nbformat": 4, "nbformat_minor": 5, "cells": cells, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}}}
    path.write_text(json.dumps(nb, indent=1))


def read_notebook_cells(n: int) -> list[dict]:
    """Code cells with a stream output and a result each, like a notebook that has been run."""
    cells = []
    for i in range(n):
        source = f"# cell {i}\ny_{i} = sum(range({i}))\nprint('partial', y_{i})\ny_{i} * 2"
        outputs = [
            {"output_type": "stream", "name": "stdout", "text": f"partial {i * (i - 1) // 2}\n"},
            {"output_type": "execute_result", "execution_count": i + 1, "metadata": {},
             "data": {"text/plain": str(i * (i - 1))}},
        ]
        cells.append(code_cell(f"r{i:05d}", source, outputs, i + 1))
    return cells


def base_cells(n: int, tag: str) -> list[dict]:
    return [code_cell(f"b{i:05d}", f"# base {tag} {i}\nb_{i} = {i}") for i in range(n)]


def inserted_source(tag: str, k: int) -> str:
    return f"# insert {tag} {k}\nv_{k} = {k}"


def updated_source(tag: str, k: int) -> str:
    return f"# update {tag} {k}\nv_{k} = {k} * 2"


# -- steps -----------------------------------------------------------------------------------


async def step_read(adapter: Adapter, session: Any, server: Server, name: str, sizes: Sizes) -> StepResult:
    out = StepResult()
    path = f"{name}.ipynb"
    write_notebook(server.root / path, read_notebook_cells(sizes.read_cells))
    await adapter.prepare(session, path, kernel=False)
    last = f"# cell {sizes.read_cells - 1}"
    for _ in range(sizes.reads):
        started = time.perf_counter()
        try:
            result = await adapter.read(session, path, sizes.read_cells)
        except Exception as error:  # noqa: BLE001 - a failed call is a result to report
            out.errors.append(str(error)[:200])
            continue
        out.add("read", time.perf_counter() - started)
    text = result_text(result) if out.times else ""
    out.checks.append("read: last cell returned" if last in text else f"read: FAIL, {last!r} not in the answer")
    return out


async def step_execute(adapter: Adapter, session: Any, server: Server, name: str, sizes: Sizes) -> StepResult:
    out = StepResult()
    path = f"{name}.ipynb"
    cells = [code_cell("x0", "x = 0")] + [
        code_cell(f"x{k}", "x = x + 1\nf'value-{x}'") for k in range(1, sizes.executes + 1)
    ]
    write_notebook(server.root / path, cells)
    await adapter.prepare(session, path, kernel=True)
    await adapter.execute(session, path, Cell(0, "x0"))  # warm the kernel, untimed
    missing = []
    for k in range(1, sizes.executes + 1):
        started = time.perf_counter()
        try:
            result = await adapter.execute(session, path, Cell(k, f"x{k}"))
        except Exception as error:  # noqa: BLE001
            out.errors.append(str(error)[:200])
            continue
        out.add("execute", time.perf_counter() - started)
        if f"value-{k}" not in result_text(result):
            missing.append(k)
    out.checks.append(f"execute: {sizes.executes - len(missing)}/{sizes.executes} outputs returned"
                      + (f" (FAIL: missing {missing[:5]})" if missing else ""))
    return out


class Watcher:
    """Resolves when the collaborator's document satisfies a predicate (checked after every transaction)."""

    def __init__(self, collaborator: Any) -> None:
        self.nb = collaborator.notebook
        self._pending: tuple[Callable[[], bool], asyncio.Future] | None = None
        self._sub = collaborator.doc.observe(self._changed)

    def _changed(self, _event: Any) -> None:
        # The document cannot be read while its transaction commits: check right after it.
        asyncio.get_running_loop().call_soon(self._check)

    def _check(self) -> None:
        if self._pending is not None:
            predicate, future = self._pending
            if not future.done() and predicate():
                future.set_result(time.perf_counter())

    def expect(self, predicate: Callable[[], bool]) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        if predicate():
            future.set_result(time.perf_counter())
        self._pending = (predicate, future)
        return future

    def sources(self) -> list[str]:
        return [str(c["source"]) for c in self.nb.ycells]


async def _timed(out: StepResult, op: str, action: Any, watcher: Watcher | None, predicate: Callable[[], bool]) -> Any:
    """Run one edit; record its call time and, with a watcher, when the collaborator saw it."""
    seen = watcher.expect(predicate) if watcher else None
    started = time.perf_counter()
    try:
        value = await action
    except Exception as error:  # noqa: BLE001
        out.errors.append(f"{op}: {str(error)[:200]}")
        return None
    out.add(op, time.perf_counter() - started)
    if seen is not None:
        try:
            out.add(f"{op} seen", await asyncio.wait_for(seen, 10) - started)
        except TimeoutError:
            out.errors.append(f"{op}: the collaborator did not see it within 10 s")
    return value


async def step_edit(
    adapter: Adapter, session: Any, server: Server, name: str, sizes: Sizes, live: bool
) -> StepResult:
    """Insert, update, delete; with ``live`` a collaborator is joined and the edits are timed until it sees them."""
    out = StepResult()
    path = f"{name}.ipynb"
    base = base_cells(sizes.base_cells, name)
    write_notebook(server.root / path, base)
    async with contextlib.AsyncExitStack() as stack:
        watcher = None
        if live:
            watcher = Watcher(await stack.enter_async_context(join_room(server, path)))
        await adapter.prepare(session, path, kernel=False)
        ids: list[str | None] = []
        n = sizes.base_cells
        for k in range(sizes.inserts):
            source = inserted_source(name, k)
            n += 1
            want = n

            def inserted(src: str = source, count: int = want) -> bool:
                cells = watcher.nb.ycells
                return len(cells) == count and str(cells[count - 1]["source"]) == src

            ids.append(await _timed(out, "insert", adapter.insert(session, path, source), watcher, inserted))
        for k in range(min(sizes.updates, sizes.inserts)):
            source, index = updated_source(name, k), sizes.base_cells + k

            def updated(src: str = source, i: int = index) -> bool:
                cells = watcher.nb.ycells
                return len(cells) > i and str(cells[i]["source"]) == src

            await _timed(out, "update", adapter.update(session, path, Cell(index, ids[k]), source), watcher, updated)
        deleted = _deleted(sizes)
        for k in deleted:
            n -= 1
            want = n

            def gone(count: int = want) -> bool:
                return len(watcher.nb.ycells) == count

            await _timed(out, "delete", adapter.delete(session, path, Cell(sizes.base_cells + k, ids[k])), watcher, gone)
        gone_set = set(deleted)
        expected = [c["source"] for c in base] + [
            (updated_source(name, k) if k < sizes.updates else inserted_source(name, k))
            for k in range(sizes.inserts) if k not in gone_set
        ]
        if adapter.name == "collab-mcp":
            await call(session, "save_notebook", {"path": path})
        out.checks += await check_notebook(server, path, expected)
    return out


def _deleted(sizes: Sizes) -> list[int]:
    """Inserted cells to delete: every other one, from the end (so earlier positions do not shift)."""
    return list(range(sizes.inserts - 1, -1, -2))[: sizes.deletes]


# -- correctness ---------------------------------------------------------------------------------


def _verdict(where: str, sources: list[str], ids: list[str], expected: list[str]) -> str:
    problems = []
    if len(sources) != len(expected):
        problems.append(f"{len(sources)} cells, expected {len(expected)}")
    if len(set(ids)) != len(ids):
        problems.append(f"{len(ids) - len(set(ids))} duplicated id(s)")
    if len(set(sources)) != len(sources):
        problems.append(f"{len(sources) - len(set(sources))} duplicated cell(s)")
    missing = [s for s in expected if s not in set(sources)]
    if missing:
        problems.append(f"{len(missing)} edit(s) missing, e.g. {missing[0].splitlines()[0]!r}")
    elif sources != expected and len(sources) == len(expected):
        problems.append("cells out of order")
    return f"{where}: " + ("ok " + f"({len(sources)} cells, ids unique, every edit present)" if not problems
                           else "FAIL " + "; ".join(problems))


def _disk(server: Server, path: str) -> tuple[list[str], list[str]]:
    cells = json.loads((server.root / path).read_text())["cells"]
    return (["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells],
            [str(c.get("id")) for c in cells])


async def check_notebook(server: Server, path: str, expected: list[str], wait: float = 15.0) -> list[str]:
    """Compare the notebook on disk (waiting for the room's autosave) and in the room with ``expected``."""
    deadline = time.monotonic() + wait
    while True:
        try:
            sources, ids = _disk(server, path)
        except (json.JSONDecodeError, FileNotFoundError):
            sources, ids = [], []
        if (sources == expected and len(set(ids)) == len(ids)) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)
    verdicts = [_verdict("disk", sources, ids, expected)]
    async with join_room(server, path) as collaborator:
        ycells = collaborator.notebook.ycells
        verdicts.append(_verdict("room", [str(c["source"]) for c in ycells], [str(c.get("id")) for c in ycells], expected))
    return verdicts
