"""``execute_cells``: several cells in order (run all, run above, a list), like JupyterLab's Run menu.

Every cell runs as ``execute_notebook_cell`` runs one (outputs streamed into
it), one after the other in the notebook's kernel. The call's ``wait`` covers
the whole batch: a cell still running when it is over answers ``running``
with its execution id, and the cells after it are not started.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema

from collab_mcp_core import ToolContext, ToolError, ToolOutput, tool

from .config import NotebookPack
from .current_notebook import PATH
from .execution import KERNEL_NAME, CellOutputs, check_timeout, code_of, executed, run
from .executions import ExecutionResult, Progress, result_text
from .live import find_cell, notebook_path, open_notebook
from .outputs import OutputBudget

# Statuses after which nothing else is run, whatever stop_on_error says.
ALWAYS_STOP = ("aborted", "running")


class ExecuteCellsArgs(BaseModel):
    path: str | None = PATH
    cell_ids: list[str] | None = Field(None, description="These cells, in this order.")
    start: int | None = Field(None, ge=0, description="Code cells from this index...")
    end: int | None = Field(None, ge=0, description="...to this one (excluded).")
    all: bool = Field(False, description="Every code cell.")
    stop_on_error: bool = True
    timeout: float | None = Field(None, description="Seconds per cell before it is interrupted.")
    wait: float | None = Field(None, description="Seconds this call waits in all.")
    kernel_name: str | None = KERNEL_NAME


class CellsRun(BaseModel):
    path: str
    status: str = Field(description="ok when every cell ran without error, else the status of the cell it stopped at.")
    # Declared loosely: each report's schema is execute_notebook_cell's, and tools/list stays lean.
    cells: Annotated[
        list[ExecutionResult],
        WithJsonSchema({"type": "array", "items": {"type": "object"},
                        "description": "One report per cell started, in order, as execute_notebook_cell returns it."}),
    ]
    stopped_at: str | None = Field(None, description="The cell it stopped at (failed, timed out or still running).")
    not_run: list[str] = Field(description="Cells selected but not started.")
    message: str


def select(nb: Any, args: ExecuteCellsArgs) -> list[str]:
    """The ids of the cells to run, or a ToolError (before anything runs) saying why the selection is wrong."""
    chosen = [args.cell_ids is not None, args.start is not None or args.end is not None, args.all]
    if sum(chosen) != 1:
        raise ToolError("Say which cells to run with exactly one of: cell_ids=[...], start/end (a range of indexes), "
                        "or all=true.")
    if args.cell_ids is not None:
        if not args.cell_ids:
            raise ToolError("cell_ids is empty; name at least one cell.")
        for cell_id in args.cell_ids:
            code_of(find_cell(nb, cell_id)[1], cell_id)
        return list(args.cell_ids)
    ycells = nb.ycells
    n = len(ycells)
    start, end = args.start or 0, n if args.end is None else args.end
    if not 0 <= start <= end <= n:
        raise ToolError(
            f"Cell range {start}..{end} is out of bounds: the notebook has {n} cells (valid: 0 <= start <= end <= {n})."
        )
    with nb.ydoc.transaction():
        picked = [
            str(ycells[i].get("id")) for i in range(start, end)
            if ycells[i].get("cell_type") == "code" and str(ycells[i]["source"]).strip()
        ]
    if not picked:
        raise ToolError(f"Cells {start}..{end} hold no code cell with code; nothing to run.")
    return picked


@tool(permission="execute", title="Run several cells", destructive=True, open_world=True, output=CellsRun)
async def execute_cells(ctx: ToolContext, args: ExecuteCellsArgs) -> ToolOutput:
    """Run cells in order in the notebook's kernel (outputs stream into each), reporting per cell and where
    it stopped. Restart and run all: restart_kernel, then execute_cells(all=true)."""
    timeout = check_timeout(ctx, args.timeout)
    wait = ctx.config(NotebookPack).execution_wait if args.wait is None else args.wait
    if wait < 0:
        raise ToolError(f"wait must be 0 or more seconds, not {wait:g}.")
    api_path = await notebook_path(ctx)
    ids = select(await open_notebook(ctx, api_path), args)
    deadline = time.monotonic() + wait
    progress = Progress(ctx)
    budget = OutputBudget.from_config(ctx.config(NotebookPack))
    reports: list[ExecutionResult] = []
    stopped_at, note = None, ""
    for position, cell_id in enumerate(ids):
        nb = await open_notebook(ctx, api_path)
        try:
            index, ycell = find_cell(nb, cell_id)
            code = code_of(ycell, cell_id)
        except ToolError as err:  # someone deleted or emptied it since the call began
            stopped_at, note = cell_id, f"Stopped before {cell_id!r}: {err.message}"
            break
        outputs = CellOutputs(ctx, api_path, cell_id)
        outputs.index = index
        execution = await run(
            ctx, api_path, code, outputs, timeout, args.kernel_name, cell_id=cell_id, on_end=executed(ctx, outputs)
        )
        if isinstance(execution, ExecutionResult):  # the kernel never answered: nothing ran
            report = execution
        else:
            left = deadline - time.monotonic()
            await execution.wait(progress, None if left >= timeout else max(0.0, left))
            report = execution.result(budget, fit=False)
        reports.append(report)
        await progress.send(f"cell {position + 1} of {len(ids)} ({cell_id}): {report.status}")
        if report.status in ALWAYS_STOP or (args.stop_on_error and report.status != "ok"):
            stopped_at = cell_id
            break
    for report, lost in zip(reports, budget.fit([r.outputs for r in reports]), strict=True):
        report.outputs_omitted = lost
    if note:
        status = "aborted"
    elif stopped_at:
        status = reports[-1].status
    else:
        status = next((r.status for r in reports if r.status != "ok"), "ok")
    result = CellsRun(
        path=api_path,
        status=status,
        cells=reports,
        stopped_at=stopped_at,
        not_run=ids[len(reports):],
        message=" ".join(m for m in (_summary(reports, ids, stopped_at, note), budget.omitted_note()) if m),
    )
    return ToolOutput(structured=result, text=_text(result), extra=list(budget.images))


def _summary(reports: list[ExecutionResult], ids: list[str], stopped_at: str | None, note: str) -> str:
    if note:
        return f"Ran {len(reports)} of {len(ids)} cells. {note}"
    if stopped_at is None:
        return f"Ran {len(reports)} of {len(ids)} cells."
    last = reports[-1]
    if last.status == "running":
        return (f"Ran {len(reports) - 1} of {len(ids)} cells; cell {stopped_at!r} is still running (get_execution"
                f"({last.execution_id!r})); the cells after it were not started.")
    return f"Stopped at cell {stopped_at!r} ({last.status}) after {len(reports)} of {len(ids)} cells: {last.message}"


def _text(result: CellsRun) -> str:
    lines = [f"{result.status}: {result.message}"]
    for report in result.cells:
        lines.append(f"=== cell {report.cell_id}")
        lines.append(result_text(report))
    return "\n".join(lines)
