"""Running code in a notebook's kernel, streaming each output into the shared document.

``execute_notebook_cell`` writes every output into the cell as the kernel
sends it (one transaction per message), sets ``execution_state`` to running
then idle and ``execution_count`` as JupyterLab does, so people with the
notebook open watch it run. It sends MCP progress notifications, interrupts
the kernel when the timeout passes, and returns the outputs within the
output budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from queue import Empty
from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import NOTEBOOK, ToolContext, ToolError, ToolOutput, tool

from .config import NotebookPack
from .current_notebook import PATH
from .events import CellExecuted
from .executions import Execution, ExecutionResult, Progress, answer, check_wait, executions, result_text
from .kernels import READY_TIMEOUT, answers, ensure_session, heal_silent, kernel_alive_state, kernel_clients
from .live import find_cell, notebook_path, open_notebook, origin

log = logging.getLogger(__name__)

# After an interrupt, how long to wait for the kernel to report the KeyboardInterrupt and go idle.
INTERRUPT_GRACE = 5.0
# Seconds without output after which a progress notification says the run is still going.
HEARTBEAT = 5.0
# How long to wait for the execute_reply once the kernel is idle.
REPLY_TIMEOUT = 5.0
# Longest a run that keeps the kernel talking holds outputs back from the shared cell (seconds).
FLUSH_INTERVAL = 0.05
OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")


# -- where outputs go ------------------------------------------------------------------------


class Outputs:
    """Collects a run's outputs (nbformat dicts); subclasses also write them somewhere."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.execution_count: int | None = None
        self.displays: dict[str, list[int]] = {}  # display_id -> indices of the outputs showing it
        self.clears = 0  # how often the code cleared its outputs
        self._clear_pending = False

    def add(self, output: dict[str, Any], display_id: str | None = None) -> None:
        if self._clear_pending:
            self.clear()
        if display_id:
            self.displays.setdefault(display_id, []).append(len(self.items))
        last = self.items[-1] if self.items else None
        if (
            output["output_type"] == "stream"
            and last
            and last["output_type"] == "stream"
            and last["name"] == output["name"]
        ):
            last["text"] += output["text"]
        else:
            self.items.append(dict(output))

    def clear(self, wait: bool = False) -> None:
        if wait:
            self._clear_pending = True
            return
        self._clear_pending = False
        self.items = []
        self.displays = {}
        self.clears += 1

    def update(self, display_id: str, data: dict[str, Any], metadata: dict[str, Any]) -> list[int]:
        """Replace what every output of ``display_id`` shows; the indices it changed."""
        indices = [i for i in self.displays.get(display_id, []) if i < len(self.items)]
        for i in indices:
            self.items[i] = {**self.items[i], "data": data, "metadata": metadata}
        return indices

    def set_count(self, count: int | None) -> None:
        self.execution_count = count

    async def start(self) -> None:
        """The run begins."""

    async def finish(self) -> None:
        """The run ended (also after a timeout or an error)."""

    async def flush(self) -> None:
        """Write what is queued: the run is about to wait for the kernel."""

    async def emit(self, output: dict[str, Any], display_id: str | None = None) -> None:
        """A new output arrived."""
        raise NotImplementedError

    async def update_display(self, display_id: str, data: dict[str, Any], metadata: dict[str, Any]) -> None:
        """The outputs showing ``display_id`` change what they show."""
        raise NotImplementedError

    async def clear_outputs(self, wait: bool) -> None:
        """Clear the outputs now, or (``wait``) when the next output arrives."""
        raise NotImplementedError

    async def count(self, count: int | None) -> None:
        """The execution count the kernel gave this run."""
        raise NotImplementedError


class CellOutputs(Outputs):
    """Writes outputs into a cell of the live notebook as they arrive.

    Changes are queued and written in one transaction whenever the run is about
    to wait for the kernel (:meth:`flush`): people see each output as soon as
    the kernel pauses, and a burst (the execution count, the outputs, the end)
    is one change to the shared document instead of one per message (each costs
    a broadcast, an update in the history and the observers' work).

    The cell is looked up by id for every write (people may move cells while
    it runs); when it was deleted the run still completes and the outputs are
    only returned. The document is kept while its room is the same open room,
    and fetched again when the room was closed and re-created.
    """

    def __init__(self, ctx: ToolContext, api_path: str, cell_id: str) -> None:
        super().__init__()
        self.ctx, self.api_path, self.cell_id = ctx, api_path, cell_id
        self.index: int | None = None
        self._room_id: str | None = None
        self._room: Any = None
        self._nb: Any = None
        self._queued: list[Callable[[Any, Any], None]] = []

    async def _document(self) -> Any:
        backend = self.ctx.backend
        if self._room is None or backend.find_room(self._room_id) is not self._room:
            self._nb = await open_notebook(self.ctx, self.api_path)
            self._room_id = self._room_id or backend.room_id(self.api_path, NOTEBOOK, create=False)
            self._room = backend.find_room(self._room_id)
        return self._nb

    def _queue(self, change: Callable[[Any, Any], None]) -> None:
        self._queued.append(change)

    async def flush(self) -> None:
        if not self._queued:
            return
        changes, self._queued = self._queued, []
        nb = await self._document()
        try:
            self.index, ycell = find_cell(nb, self.cell_id, hint=self.index)
        except ToolError:
            return  # the cell was deleted while running: keep collecting, write nowhere
        with nb.ydoc.transaction(origin=origin(self.ctx)):
            for change in changes:  # in order: each sees what the previous one wrote
                change(nb, ycell)

    async def start(self) -> None:
        def begin(nb: Any, ycell: Any) -> None:
            ycell["outputs"].clear()
            ycell["execution_count"] = None
            ycell["execution_state"] = "running"

        self._queue(begin)

    async def finish(self) -> None:
        count = self.execution_count

        def end(nb: Any, ycell: Any) -> None:
            # The count and the end of the run in one change, as JupyterLab writes them at the
            # execute_reply: a browser that sees a count switches the prompt from [*] to [n] (and
            # marks the cell idle itself), so a count written while it runs would hide the [*].
            ycell["execution_count"] = count
            ycell["execution_state"] = "idle"

        self._queue(end)
        await self.flush()

    async def emit(self, output: dict[str, Any], display_id: str | None = None) -> None:
        pending_clear = self._clear_pending
        merged_stream = (
            output["output_type"] == "stream"
            and not pending_clear
            and self.items
            and self.items[-1]["output_type"] == "stream"
            and self.items[-1]["name"] == output["name"]
        )
        self.add(output, display_id)

        def write(nb: Any, ycell: Any) -> None:
            youtputs = ycell["outputs"]
            if pending_clear:
                youtputs.clear()
            last = youtputs[len(youtputs) - 1] if len(youtputs) else None
            text = last.get("text") if merged_stream and last is not None else None
            if text is not None and hasattr(text, "insert"):
                text += output["text"]  # a local reference to the shared Text: appends in place
            else:
                youtputs.append(nb._create_youtputs([output])[0])  # noqa: SLF001 - jupyter_ydoc's output builder

        self._queue(write)

    async def clear_outputs(self, wait: bool) -> None:
        self.clear(wait)
        if not wait:
            self._queue(lambda nb, ycell: ycell["outputs"].clear())

    async def update_display(self, display_id: str, data: dict[str, Any], metadata: dict[str, Any]) -> None:
        indices = self.update(display_id, data, metadata)

        def write(nb: Any, ycell: Any) -> None:
            youtputs = ycell["outputs"]
            for i in indices:
                if i < len(youtputs):
                    youtputs[i]["data"] = data
                    youtputs[i]["metadata"] = metadata

        if indices:
            self._queue(write)

    async def count(self, count: int | None) -> None:
        self.set_count(count)  # written into the cell when the run ends (see finish)


class ReturnedOutputs(Outputs):
    """Outputs of code run without a cell: only returned."""

    async def emit(self, output: dict[str, Any], display_id: str | None = None) -> None:
        self.add(output, display_id)

    async def update_display(self, display_id: str, data: dict[str, Any], metadata: dict[str, Any]) -> None:
        self.update(display_id, data, metadata)

    async def clear_outputs(self, wait: bool) -> None:
        self.clear(wait)

    async def count(self, count: int | None) -> None:
        self.set_count(count)


# -- the run ---------------------------------------------------------------------------------


def check_timeout(ctx: ToolContext, timeout: float | None) -> float:
    config = ctx.config(NotebookPack)
    value = config.execution_timeout if timeout is None else timeout
    if not 0 < value <= config.max_execution_timeout:
        raise ToolError(
            f"timeout must be more than 0 and at most {config.max_execution_timeout:g} seconds (got {value:g})."
        )
    return value


async def run(
    ctx: ToolContext,
    api_path: str,
    code: str,
    outputs: Outputs,
    timeout: float,
    kernel_name: str | None,
    *,
    store_history: bool = True,
    cell_id: str | None = None,
    on_end: Callable[[Execution], Awaitable[None]] | None = None,
) -> Execution | ExecutionResult:
    """Start running ``code`` in the notebook's kernel: the execution, followed by a task of its own.

    An ExecutionResult instead when the kernel did not even answer within the timeout (nothing ran).
    """
    # The liveness probe (kernel_info) goes out with the request, not a round trip before it (ensure_session).
    notebook_kernel = await ensure_session(ctx, api_path, kernel_name, probe_with_request=True)
    kernel_id = notebook_kernel.kernel_id
    clients = kernel_clients(ctx.host)
    began = time.monotonic()
    while True:
        started = notebook_kernel.started
        note = ""
        if notebook_kernel.healed:
            # Never silently: the agent must know its variables are gone.
            note = f" Note: the kernel was restarted first because it {notebook_kernel.healed}; earlier variables are gone."
        connected = kernel_id in clients.clients  # a new client's wait_for_ready has just heard the kernel
        try:
            # A kernel busy with someone else's run answers nothing, not even kernel_info: bound the wait
            # by the caller's timeout, except while a kernel this call started is booting.
            kernel = await asyncio.wait_for(clients.get(ctx, kernel_id), READY_TIMEOUT if started else timeout)
        except TimeoutError:
            return ExecutionResult(
                path=api_path,
                cell_id=cell_id,
                kernel_id=kernel_id,
                kernel_started=started,
                kernel_restarted=notebook_kernel.healed is not None,
                status="timeout",
                outputs=[],
                duration_s=round(time.monotonic() - began, 3),
                message=f"The kernel did not answer within {timeout:g}s (it is busy with another execution, or "
                "starting). Nothing was run and nothing was interrupted; try again later or call interrupt_kernel." + note,
            )
        await kernel.lock.acquire()
        held = True
        try:
            await _drain(kernel.client)
            # Only an idle kernel is asked (one busy with someone's run answers nothing until it is done).
            probe = (
                kernel.client.kernel_info()
                if notebook_kernel.probe and connected and kernel_alive_state(ctx, kernel_id) == "idle" else None
            )
            kernel_run = KernelRun(ctx, kernel.client, kernel_id, outputs)
            kernel_run.send(code, store_history)
            if probe is not None and not await answers(
                kernel.client, probe, ctx.config(NotebookPack).kernel_info_timeout, kernel_run.early_reply
            ):
                # Silent: the restart kills the process with the request it never ran; send it again.
                kernel.lock.release()
                held = False
                death = await heal_silent(ctx, kernel_id)
                notebook_kernel = dataclasses.replace(notebook_kernel, started=True, healed=death, probe=False)
                continue
            await outputs.start()
        except BaseException:
            if held:
                kernel.lock.release()
            raise
        break
    execution = Execution(
        ctx, path=api_path, cell_id=cell_id, kernel_id=kernel_id, kernel_started=started,
        kernel_restarted=notebook_kernel.healed is not None,
        kernel_run=kernel_run, outputs=outputs, release=kernel.lock.release, note=note, on_end=on_end,
    )
    waited = 0.0 if started else time.monotonic() - began
    execution.start(max(0.0, timeout - waited), ctx.config(NotebookPack).max_execution_timeout)
    executions(ctx.host).add(execution)
    return execution


async def run_and_answer(
    ctx: ToolContext, api_path: str, code: str, outputs: Outputs, timeout: float, wait: float | None,
    kernel_name: str | None, *, store_history: bool = True, cell_id: str | None = None,
    progress: Progress | None = None, on_end: Callable[[Execution], Awaitable[None]] | None = None,
) -> tuple[ExecutionResult, list[Any]]:
    """Run ``code`` and wait for it up to ``wait`` seconds: the result so far and its images."""
    execution = await run(
        ctx, api_path, code, outputs, timeout, kernel_name, store_history=store_history, cell_id=cell_id,
        on_end=on_end,
    )
    if isinstance(execution, ExecutionResult):
        return execution, []
    return await answer(ctx, execution, wait, progress)


async def _drain(client: Any) -> None:
    """Drop iopub messages left from earlier runs (they belong to no one now)."""
    while True:
        try:
            await client.get_iopub_msg(timeout=0)
        except Empty:
            return


class KernelRun:
    """One execute request: follows its iopub messages into ``outputs``."""

    def __init__(self, ctx: ToolContext, client: Any, kernel_id: str, outputs: Outputs) -> None:
        self.ctx, self.client, self.kernel_id, self.outputs = ctx, client, kernel_id, outputs
        self.msg_id = ""
        self.started = False  # the kernel began running our request (not just queued it)
        self.sent = 0
        self.listener: Progress | None = None  # the call waiting for this run hears its progress
        self.began = time.monotonic()
        self.last_progress = self.began
        self.flushed = self.began  # when queued outputs were last written into the cell
        self.reply: dict[str, Any] | None = None  # the execute_reply, when read before it was waited for

    def early_reply(self, msg: dict[str, Any]) -> None:
        """A shell message read while waiting for another reply: kept if it is this run's reply."""
        if msg.get("parent_header", {}).get("msg_id") == self.msg_id:
            self.reply = msg["content"]

    def send(self, code: str, store_history: bool) -> None:
        self.msg_id = self.client.execute(code, store_history=store_history, allow_stdin=False, stop_on_error=True)

    async def follow(self, timeout: float) -> tuple[str, str]:
        """Follow the run to its end; on timeout interrupt it (only if it is ours that runs)."""
        end = await self._pump(time.monotonic() + timeout)
        if end == "deadline":
            if not self.started:
                return "queued", (
                    f"Timed out after {timeout:g}s before the kernel started this code: it was busy with another "
                    "execution (someone else's), which was not interrupted. The code stays queued and runs when "
                    "the kernel is free; its outputs will appear in the notebook. Check later with read_notebook_cell."
                )
            await self.ctx.backend.kernels.interrupt(self.kernel_id)
            end = await self._pump(time.monotonic() + INTERRUPT_GRACE)
            if end == "deadline":
                return "timeout", (
                    f"Timed out after {timeout:g}s; the kernel was interrupted but did not stop within "
                    f"{INTERRUPT_GRACE:g}s. It may still be busy: call interrupt_kernel or restart_kernel."
                )
            if end == "died":
                return "aborted", DIED
            await self._reply()
            return "timeout", (
                f"Timed out after {timeout:g}s: the kernel was interrupted (KeyboardInterrupt). "
                "Outputs so far are below."
            )
        return await self._outcome(end)

    async def follow_queued(self, limit: float) -> tuple[str, str]:
        """Keep following a run that was still queued when its timeout passed (it is never interrupted)."""
        end = await self._pump(time.monotonic() + limit)
        if end == "deadline":
            return "timeout", f"Still queued after {limit:g}s more: the kernel never ran it."
        return await self._outcome(end)

    async def _outcome(self, end: str) -> tuple[str, str]:
        if end == "died":
            return "aborted", DIED
        reply = await self._reply()
        status = reply.get("status", "ok")
        if status == "error":
            return "error", f"The code raised {reply.get('ename')}: {reply.get('evalue')}."
        if status == "aborted":
            return "aborted", "The kernel aborted the execution (an earlier execution failed)."
        return "ok", "Ran to completion."

    async def _pump(self, deadline: float) -> str:
        """Read iopub until our run is idle ('idle'), the deadline ('deadline') or the kernel died ('died')."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "deadline"
            try:
                msg = await self._next_message(min(left, 1.0))
            except Empty:
                await self._heartbeat()
                clients = kernel_clients(self.ctx.host)
                if self.kernel_id in clients.died or not self.ctx.backend.kernels.exists(self.kernel_id):
                    clients.died.discard(self.kernel_id)  # said so now
                    clients.drop(self.kernel_id)
                    return "died"
                continue
            if msg.get("parent_header", {}).get("msg_id") != self.msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status":
                if content.get("execution_state") == "busy":
                    self.started = True
                elif content.get("execution_state") == "idle":
                    return "idle"
            elif kind == "execute_input":
                self.started = True
                await self.outputs.count(content.get("execution_count"))
            elif kind == "clear_output":
                await self.outputs.clear_outputs(bool(content.get("wait")))
            elif kind == "update_display_data":
                display_id = (content.get("transient") or {}).get("display_id")
                if display_id:
                    await self.outputs.update_display(display_id, content.get("data", {}), content.get("metadata", {}))
            elif kind in OUTPUT_TYPES:
                await self.outputs.emit(_as_output(kind, content), (content.get("transient") or {}).get("display_id"))
                self.sent += 1
                await self._progress(f"{self.sent} output(s) so far; latest: {kind}")

    async def _next_message(self, timeout: float) -> dict[str, Any]:
        """The next iopub message. What the outputs queued is written before waiting for one,
        and at least every ``FLUSH_INTERVAL`` while a chatty run never lets us wait."""
        if time.monotonic() - self.flushed < FLUSH_INTERVAL:
            try:
                return await self.client.get_iopub_msg(timeout=0)
            except Empty:
                pass
        await self.outputs.flush()
        self.flushed = time.monotonic()
        return await self.client.get_iopub_msg(timeout=timeout)

    async def _progress(self, message: str) -> None:
        listener = self.listener
        if listener is not None:
            self.last_progress = time.monotonic()
            await listener.send(message)

    async def _heartbeat(self) -> None:
        """A progress note during long silent runs, so clients that reset their timeout on progress wait."""
        if time.monotonic() - self.last_progress >= HEARTBEAT:
            await self._progress(f"still running after {time.monotonic() - self.began:.0f}s ({self.sent} outputs)")

    async def _reply(self) -> dict[str, Any]:
        reply = self.reply if self.reply is not None else await shell_reply(self.client, self.msg_id, REPLY_TIMEOUT)
        count = reply.get("execution_count")
        if count is not None and count != self.outputs.execution_count:
            await self.outputs.count(count)
        return reply


DIED = "The kernel died while running this code; the server restarts it, and every variable is gone."


async def shell_reply(client: Any, msg_id: str, timeout: float) -> dict[str, Any]:
    """The content of the shell reply to ``msg_id``; empty if none came within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = await client.get_shell_msg(timeout=max(0.05, deadline - time.monotonic()))
        except Empty:
            break
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return msg["content"]
    return {}


def _as_output(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """An nbformat output from an iopub message."""
    if kind == "stream":
        return {"output_type": "stream", "name": content.get("name", "stdout"), "text": content.get("text", "")}
    if kind == "error":
        return {
            "output_type": "error",
            "ename": content.get("ename", ""),
            "evalue": content.get("evalue", ""),
            "traceback": list(content.get("traceback") or []),
        }
    output = {"output_type": kind, "data": content.get("data", {}), "metadata": content.get("metadata", {})}
    if kind == "execute_result":
        output["execution_count"] = content.get("execution_count")
    return output


# -- tools -----------------------------------------------------------------------------------


TIMEOUT = Field(None, description="Seconds before the kernel is interrupted (default from config).")
WAIT = Field(None, description="Seconds to wait before answering 'running' (the run goes on; see get_execution).")
KERNEL_NAME = Field(None, description="Kernel to start if the notebook has none (default: config).")


class ExecuteCellArgs(BaseModel):
    path: str | None = PATH
    cell_id: str = Field(description="The code cell to run.")
    timeout: float | None = TIMEOUT
    wait: float | None = WAIT
    kernel_name: str | None = KERNEL_NAME


@tool(permission="execute", title="Run a cell", output=ExecutionResult, destructive=True, open_world=True)
async def execute_notebook_cell(ctx: ToolContext, args: ExecuteCellArgs) -> ToolOutput:
    """Run a code cell (like Shift+Enter; the kernel starts if needed): outputs stream live into the cell and are returned.

    On timeout the kernel is interrupted; a run longer than `wait` answers status running and an
    execution_id for get_execution.
    """
    api_path = await notebook_path(ctx)
    result, images = await run_cell(ctx, api_path, args.cell_id, args.timeout, args.wait, args.kernel_name)
    return ToolOutput(structured=result, text=result_text(result), extra=images)


def code_of(ycell: Any, cell_id: str) -> str:
    """The code of a cell that can run, or a ToolError saying why it cannot."""
    if ycell.get("cell_type") != "code":
        raise ToolError(f"Cell {cell_id!r} is a {ycell.get('cell_type')} cell; only code cells run.")
    code = str(ycell["source"])
    if not code.strip():
        raise ToolError(f"Cell {cell_id!r} is empty; there is nothing to run.")
    return code


async def run_cell(
    ctx: ToolContext, api_path: str, cell_id: str, timeout: float | None, wait: float | None,
    kernel_name: str | None,
) -> tuple[ExecutionResult, list[Any]]:
    """Run one code cell, outputs streamed into it; the result within the output budget, and its images."""
    timeout = check_timeout(ctx, timeout)
    wait = check_wait(ctx, wait, timeout)
    nb = await open_notebook(ctx, api_path)
    index, ycell = find_cell(nb, cell_id)
    code = code_of(ycell, cell_id)
    outputs = CellOutputs(ctx, api_path, cell_id)
    outputs.index = index
    return await run_and_answer(
        ctx, api_path, code, outputs, timeout, wait, kernel_name, cell_id=cell_id, on_end=executed(ctx, outputs)
    )


def executed(ctx: ToolContext, outputs: CellOutputs) -> Callable[[Execution], Awaitable[None]]:
    """What to do when a cell's run ends (however long after the call): emit ``notebook_cell_executed``."""

    async def emit(execution: Execution) -> None:
        await ctx.emit(
            CellExecuted(
                path=execution.path,
                cell_id=outputs.cell_id,
                index=outputs.index if outputs.index is not None else -1,
                status=execution.status,
                execution_count=outputs.execution_count,
                kernel_id=execution.kernel_id,
            )
        )

    return emit


class ExecuteCodeArgs(BaseModel):
    path: str | None = PATH
    code: str = Field(description="Code to run; no cell is added to the notebook.")
    timeout: float | None = TIMEOUT
    wait: float | None = WAIT
    kernel_name: str | None = KERNEL_NAME


@tool(permission="execute", title="Run code in the notebook's kernel", output=ExecutionResult, destructive=True, open_world=True)
async def execute_code(ctx: ToolContext, args: ExecuteCodeArgs) -> ToolOutput:
    """Run code in the notebook's kernel (sharing its variables) without adding a cell; outputs are only returned."""
    timeout = check_timeout(ctx, args.timeout)
    wait = check_wait(ctx, args.wait, timeout)
    if not args.code.strip():
        raise ToolError("code is empty; give the code to run.")
    api_path = await notebook_path(ctx)
    result, images = await run_and_answer(
        ctx, api_path, args.code, ReturnedOutputs(), timeout, wait, args.kernel_name, store_history=False
    )
    return ToolOutput(structured=result, text=result_text(result), extra=images)


async def close_clients(host: Any) -> None:
    """Stop following runs and every kernel client the pack opened (when the server stops)."""
    executions(host).close()
    kernel_clients(host).close()
    await asyncio.sleep(0)
