"""Executions that outlive the call that started them: execution ids and ``get_execution``.

A run is followed by a background task from the moment its code is sent, so
the call that started it can stop waiting (``wait`` seconds) without stopping
the run: it answers ``status: "running"`` with an ``execution_id`` and the
outputs so far, and the kernel keeps writing outputs into the cell. The run
is still interrupted when its ``timeout`` passes. ``get_execution`` waits for
more and returns the outputs not returned yet, then the final status.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from collab_mcp_core import NotFound, ToolContext, ToolError, ToolOutput, tool

from .config import NotebookPack
from .outputs import OutputBudget, OutputView, optional

if TYPE_CHECKING:
    from collab_mcp_core import HostServices as Host

log = logging.getLogger(__name__)

# Finished executions stay readable this long (seconds), and at most this many are kept.
KEEP_FINISHED = 900.0
MAX_KEPT = 200

Status = Literal["ok", "error", "timeout", "aborted", "running"]


class ExecutionResult(BaseModel):
    path: str
    cell_id: str | None = Field(None, description="The cell that ran (execute_notebook_cell).")
    kernel_id: str
    kernel_started: bool = Field(description="True when this call had to start the kernel.")
    kernel_restarted: bool = Field(
        False, description="True when the kernel had died and was replaced before this run: earlier variables are gone."
    )
    status: Status = Field(
        description="ok, error (the code raised), timeout (interrupted, or still queued behind someone else's run), "
        "aborted (the kernel died or skipped it) or running (still running: call get_execution)."
    )
    execution_id: str | None = optional("Pass to get_execution for the rest of a run (while running or queued).")
    execution_count: int | None = None
    first_output: int | None = optional("Index in the run's outputs of the first one returned (earlier ones were "
                                        "returned before).")
    outputs: list[OutputView]
    outputs_omitted: int = Field(0, description="How many of the last outputs were left out: over the output budget.")
    duration_s: float
    message: str


class Progress:
    """The progress notifications of one call: increasing across every run it waits for (MCP requires it)."""

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx, self.ticks = ctx, 0

    async def send(self, message: str) -> None:
        self.ticks += 1
        try:
            await self.ctx.progress(self.ticks, None, message)
        except Exception:  # the call stopped waiting meanwhile: nobody to tell
            log.debug("could not send progress", exc_info=True)


class Execution:
    """One run of code in a kernel, followed to its end by a task of its own.

    ``kernel_run`` follows the kernel's messages (``execution.KernelRun``);
    ``outputs`` collects them (and writes them into the cell); ``release``
    frees the kernel for the next run once this one ended.
    """

    def __init__(
        self, ctx: ToolContext, *, path: str, cell_id: str | None, kernel_id: str, kernel_started: bool,
        kernel_run: Any, outputs: Any, release: Any, kernel_restarted: bool = False, note: str = "",
        on_end: Callable[[Execution], Awaitable[None]] | None = None,
    ) -> None:
        self.id = secrets.token_urlsafe(9)
        self.owner = ctx.identity.username
        self.path, self.cell_id, self.kernel_id, self.kernel_started = path, cell_id, kernel_id, kernel_started
        self.kernel_run, self.outputs, self._release, self.note = kernel_run, outputs, release, note
        self.kernel_restarted = kernel_restarted
        self.on_end = on_end  # told once the run ended (before a waiting call hears of it)
        self.began = time.monotonic()
        self.ended: float | None = None
        self.status: Status = "running"
        self.message = ""
        self.queued_message: str | None = None  # set when the timeout passed before the kernel started it
        self.settled = asyncio.Event()  # the run ended, or its timeout passed while it was queued
        self.cursor = (0, 0)  # (output index, characters of it) already returned to the model
        self._cleared = 0  # outputs.clears when the cursor was set
        self.task: asyncio.Task | None = None

    def start(self, timeout: float, queued_limit: float) -> None:
        self.task = asyncio.create_task(self._follow(timeout, queued_limit))

    async def _follow(self, timeout: float, queued_limit: float) -> None:
        try:
            status, message = await self.kernel_run.follow(timeout)
            if status == "queued":
                # Someone else's code held the kernel the whole time: interrupting would stop *their* run.
                # Ours stays queued: the caller hears "timeout", and we follow it until it ran.
                self.queued_message = message
                self.settled.set()
                status, message = await self.kernel_run.follow_queued(queued_limit)
            self.status, self.message = status, message
        except Exception as err:
            log.exception("following an execution failed")
            self.status, self.message = "aborted", f"Following the run failed ({type(err).__name__}: {err})."
        finally:
            try:
                await self.outputs.finish()
            finally:
                self._release()
                self.ended = time.monotonic()
                self.kernel_run.listener = None
                if self.on_end is not None:
                    try:
                        await self.on_end(self)
                    except Exception:
                        log.exception("the end of an execution could not be reported")
                self.settled.set()

    @property
    def done(self) -> bool:
        return self.ended is not None

    async def wait(self, progress: Progress, seconds: float | None) -> None:
        """Wait until the run settles, at most ``seconds`` (None: until it settles), telling ``progress``."""
        self.kernel_run.listener = progress
        try:
            await asyncio.wait_for(asyncio.shield(self.settled.wait()), seconds)
        except TimeoutError:
            pass
        finally:
            if self.kernel_run.listener is progress:
                self.kernel_run.listener = None
        await self.outputs.flush()  # what the model is told about is in the cell too

    def new_outputs(self) -> tuple[int, list[dict[str, Any]]]:
        """The outputs (or the part of a growing stream) not returned yet, and the index of the first; moves the cursor."""
        items = self.outputs.items
        if self.outputs.clears != self._cleared:  # the code cleared its outputs: start again
            self.cursor, self._cleared = (0, 0), self.outputs.clears
        index, chars = self.cursor
        fresh = []
        for i in range(index, len(items)):
            item = items[i]
            if i == index and chars and item["output_type"] == "stream":
                item = {**item, "text": item["text"][chars:]}
                if not item["text"]:
                    index += 1
                    continue
            fresh.append(item)
        if items and items[-1]["output_type"] == "stream":  # it may grow: remember how much was seen
            self.cursor = (len(items) - 1, len(items[-1]["text"]))
        else:
            self.cursor = (len(items), 0)
        return index, fresh

    def result(self, budget: OutputBudget, *, fit: bool = True) -> ExecutionResult:
        """What the model is told now: the status, and the outputs it has not seen, within ``budget``
        (without ``fit`` the outputs are whole: the caller fits several results together)."""
        first, fresh = self.new_outputs()
        views = [budget.view(o) for o in fresh]
        omitted = budget.fit([views])[0] if fit else 0
        if self.done:
            status, message = self.status, self.message
        elif self.queued_message is not None:
            status, message = "timeout", self.queued_message + f" Follow it with get_execution({self.id!r})."
        else:
            status = "running"
            message = (
                f"Still running after {time.monotonic() - self.began:.1f}s; it was not interrupted and its outputs "
                f"keep reaching the notebook. Call get_execution({self.id!r}) for the rest, or interrupt_kernel "
                "to stop it."
            )
        return ExecutionResult(
            path=self.path,
            cell_id=self.cell_id,
            kernel_id=self.kernel_id,
            kernel_started=self.kernel_started,
            kernel_restarted=self.kernel_restarted,
            status=status,
            execution_id=None if self.done else self.id,
            execution_count=self.outputs.execution_count,
            first_output=first or None,
            outputs=views,
            outputs_omitted=omitted,
            duration_s=round((self.ended or time.monotonic()) - self.began, 3),
            message=" ".join(m for m in (message + self.note, fit and budget.omitted_note()) if m),
        )


class Executions:
    """The executions of one host, by id; finished ones are kept a while for get_execution."""

    def __init__(self) -> None:
        self.by_id: OrderedDict[str, Execution] = OrderedDict()

    def add(self, execution: Execution) -> None:
        self.prune()
        self.by_id[execution.id] = execution

    def prune(self) -> None:
        now = time.monotonic()
        finished = [e for e in self.by_id.values() if e.ended is not None]
        for e in finished:
            if now - e.ended > KEEP_FINISHED or len(self.by_id) > MAX_KEPT:
                self.by_id.pop(e.id, None)

    def get(self, ctx: ToolContext, execution_id: str) -> Execution:
        self.prune()
        execution = self.by_id.get(execution_id)
        if execution is None or execution.owner != ctx.identity.username:
            mine = [e.id for e in self.by_id.values() if e.owner == ctx.identity.username and not e.done]
            raise NotFound(
                f"No execution with id {execution_id!r} (finished executions are kept {KEEP_FINISHED / 60:g} "
                f"minutes). Your running executions: {', '.join(mine) or 'none'}."
            )
        return execution

    def close(self) -> None:
        for execution in self.by_id.values():
            if execution.task is not None and not execution.task.done():
                execution.task.cancel()


_executions: weakref.WeakKeyDictionary[Host, Executions] = weakref.WeakKeyDictionary()


def executions(host: Host) -> Executions:
    """The executions of this host (created on first use)."""
    if host not in _executions:
        _executions[host] = Executions()
    return _executions[host]


def check_wait(ctx: ToolContext, wait: float | None, timeout: float) -> float | None:
    """How long a call waits for its run: ``wait`` (default from config), at most the timeout.

    None means "until the run ends" (the timeout bounds it).
    """
    value = ctx.config(NotebookPack).execution_wait if wait is None else wait
    if value < 0:
        raise ToolError(f"wait must be 0 or more seconds, not {wait:g}.")
    return None if value >= timeout else value


async def answer(
    ctx: ToolContext, execution: Execution, wait: float | None, progress: Progress | None = None
) -> tuple[ExecutionResult, list]:
    """Wait for ``execution`` (up to ``wait``) and say what it did, with its images."""
    await execution.wait(progress or Progress(ctx), wait)
    budget = OutputBudget.from_config(ctx.config(NotebookPack))
    return execution.result(budget), list(budget.images)


# -- tool ------------------------------------------------------------------------------------


class GetExecutionArgs(BaseModel):
    execution_id: str = Field(description="The execution_id a run answered with.")
    wait: float = Field(30.0, ge=0, le=600, description="Seconds to wait for the run to end before answering.")


@tool(permission="execute", title="Follow a run", output=ExecutionResult, path_arg=None)
async def get_execution(ctx: ToolContext, args: GetExecutionArgs) -> ToolOutput:
    """The rest of a run that answered status "running": outputs not returned yet, and the final status
    once it ended (waits up to `wait` seconds)."""
    execution = executions(ctx.host).get(ctx, args.execution_id)
    result, images = await answer(ctx, execution, args.wait)
    return ToolOutput(structured=result, text=result_text(result), extra=images)


def result_text(result: ExecutionResult) -> str:
    count = f" [{result.execution_count}]" if result.execution_count is not None else ""
    lines = [f"{result.status}{count} in {result.path}: {result.message}"]
    for out in result.outputs:
        label = out.name or out.output_type
        if out.output_type == "error":
            label = f"error {out.ename}"
        lines.append(f"--- {label}" + (f" ({out.note})" if out.note else ""))
        if out.text:
            lines.append(out.text)
    return "\n".join(lines)
