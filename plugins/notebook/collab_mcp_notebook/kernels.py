"""Kernel sessions of notebooks, and the tools that manage kernels.

A notebook's kernel is the one of its session in the server's session manager,
the same one JupyterLab uses, so the agent and people share variables. The
pack keeps one kernel client per kernel, with a lock: iopub messages are read
from one client, and two executions on one kernel would steal each other's.
"""

from __future__ import annotations

import asyncio
import weakref
from queue import Empty
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pycrdt import Map
from pydantic import BaseModel, Field

from collab_mcp_core import NotFound, ToolContext, ToolError, tool

from .config import NotebookPack
from .current_notebook import PATH
from .live import notebook_path, open_notebook

if TYPE_CHECKING:
    from collab_mcp_core import HostServices as Host
    from collab_mcp_core import KernelConnection, Kernels

READY_TIMEOUT = 60.0


# -- sessions and clients ---------------------------------------------------------------------


@dataclass
class KernelClient:
    """One connected client of a kernel, and the lock that serialises executions on it."""

    kernel_id: str
    client: KernelConnection
    kernels: Kernels
    unsubscribe: Callable[[], None]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class KernelClients:
    """The pack's kernel clients, by kernel id (one set per host).

    It also remembers kernels that died (the server's restarter fires a
    callback) until an execution has told the caller so.
    """

    def __init__(self) -> None:
        self.clients: dict[str, KernelClient] = {}
        self.died: set[str] = set()
        self.notebooks: dict[str, str] = {}  # notebook path -> the kernel id it last ran on

    async def get(self, ctx_or_host: Any, kernel_id: str) -> KernelClient:
        host = getattr(ctx_or_host, "host", ctx_or_host)
        known = self.clients.get(kernel_id)
        if known is not None:
            return known
        kernels = host.backend.kernels
        client = await kernels.connect(kernel_id, READY_TIMEOUT)
        if kernel_id in self.clients:  # another call connected meanwhile
            kernels.disconnect(client)
            return self.clients[kernel_id]

        def on_death(restarting: bool) -> None:
            # The kernel process died; the server restarts it (maybe on new ports), so this client is stale.
            self.died.add(kernel_id)

        unsubscribe = kernels.on_death(kernel_id, on_death)
        known = self.clients[kernel_id] = KernelClient(kernel_id, client, kernels, unsubscribe)
        return known

    def drop(self, kernel_id: str) -> None:
        known = self.clients.pop(kernel_id, None)
        if known is not None:
            known.unsubscribe()
            known.kernels.disconnect(known.client)

    def close(self) -> None:
        for kernel_id in list(self.clients):
            self.drop(kernel_id)


_clients: weakref.WeakKeyDictionary[Host, KernelClients] = weakref.WeakKeyDictionary()


def kernel_clients(host: Host) -> KernelClients:
    """The kernel clients of this host (created on first use)."""
    if host not in _clients:
        _clients[host] = KernelClients()
    return _clients[host]


def _session_matches(session: dict[str, Any], api_path: str) -> bool:
    # Some JupyterLab collaboration versions name the session path with the RTC drive prefix.
    return session.get("path") in (api_path, f"RTC:{api_path}")


async def find_session(ctx: ToolContext, api_path: str) -> dict[str, Any] | None:
    """The notebook's kernel session, or None. Never starts anything."""
    for session in await ctx.backend.kernels.list_sessions():
        if _session_matches(session, api_path) and session.get("kernel"):
            return session
    return None


def kernel_alive_state(ctx: ToolContext, kernel_id: str) -> str:
    """The kernel's execution state as the server tracks it ('dead' when it is gone)."""
    return ctx.backend.kernels.execution_state(kernel_id)


async def check_kernel_name(ctx: ToolContext, kernel_name: str | None) -> str:
    """A valid kernel spec name: the one asked for (or the notebook's), the configured one, or the default."""
    kernels = ctx.backend.kernels
    name = kernel_name or ctx.config(NotebookPack).kernel_name or await kernels.default_kernel_name()
    specs = await kernels.kernel_specs()
    if name not in specs:
        raise ToolError(f"Unknown kernel {name!r}. Installed kernels: {', '.join(sorted(specs)) or 'none'}.")
    return name


async def _notebook_kernel(ctx: ToolContext, api_path: str) -> str | None:
    """The kernel the notebook's metadata names, when it is installed (as JupyterLab picks it)."""
    nb = await open_notebook(ctx, api_path)
    metadata = nb.ydoc.get("meta", type=Map).get("metadata")
    spec = (metadata.to_py() if hasattr(metadata, "to_py") else metadata or {}).get("kernelspec") or {}
    name = spec.get("name")
    return name if name in await ctx.backend.kernels.kernel_specs() else None


@dataclass
class NotebookKernel:
    """The notebook's kernel session, ready to run, and what had to happen to get it."""

    session: dict[str, Any]
    started: bool  # this call started a kernel (there was none, or the old one was gone)
    healed: str | None = None  # why the kernel was replaced (its variables are gone), if it was
    # The kernel_info probe was left to the caller, to be sent with its request (see ensure_session).
    probe: bool = False

    @property
    def kernel_id(self) -> str:
        return self.session["kernel"]["id"]


async def ensure_session(
    ctx: ToolContext, api_path: str, kernel_name: str | None = None, *, probe_with_request: bool = False
) -> NotebookKernel:
    """The notebook's session with a live kernel, starting one if there is none.

    A dead kernel (process gone, culled, restarted by the server after it died,
    or not answering ``kernel_info`` while idle) is replaced when
    ``c.NotebookPack.heal_dead_kernels`` allows it, and the result says so;
    otherwise the call is refused with an error naming ``restart_kernel``.

    With ``probe_with_request`` (and healing on) the ``kernel_info`` probe is
    not sent here: the result has ``probe`` set, and the caller sends the probe
    right before its own request on the same client and heals the kernel with
    :func:`heal_silent` when the probe gets no answer (``execution.run``). The
    kernel answers shell requests in order, so a kernel that answers the probe
    is the one that runs the request, and a silent one is restarted (its process
    killed, the request with it) before the request is sent again: the same
    guarantee as probing first, without waiting a round trip before every run.
    """
    clients = kernel_clients(ctx.host)
    session = await find_session(ctx, api_path)
    if session is None:
        name = await check_kernel_name(ctx, kernel_name or await _notebook_kernel(ctx, api_path))
        session = await ctx.backend.kernels.start_session(api_path, name)
        lost = clients.notebooks.get(api_path)
        clients.notebooks[api_path] = session["kernel"]["id"]
        # A kernel this server ran for the notebook is gone (shut down or culled): say so.
        healed = f"its kernel {lost} was gone (shut down or culled)" if lost and not ctx.backend.kernels.exists(lost) else None
        return NotebookKernel(session, started=True, healed=healed)
    kernel_id = session["kernel"]["id"]
    clients.notebooks[api_path] = kernel_id
    if kernel_name and session["kernel"].get("name") != kernel_name:
        raise ToolError(
            f"{api_path!r} already runs a {session['kernel'].get('name')!r} kernel; restart_kernel or use it "
            f"instead of asking for {kernel_name!r}."
        )
    defer = probe_with_request and ctx.config(NotebookPack).heal_dead_kernels
    death = await _death_of(ctx, kernel_id, probe=not defer)
    if death is None:
        return NotebookKernel(session, started=False, probe=defer)
    if not ctx.config(NotebookPack).heal_dead_kernels:
        raise ToolError(
            f"The kernel of {api_path!r} ({kernel_id}) {death}: every variable is gone. Call restart_kernel to "
            "continue with a fresh kernel, then re-run what you need (or set c.NotebookPack.heal_dead_kernels = True)."
        )
    await _heal(ctx, kernel_id)
    return NotebookKernel(session, started=True, healed=death)


async def _heal(ctx: ToolContext, kernel_id: str) -> None:
    """Replace a dead or silent kernel: wait for the server's restarter, or restart it."""
    clients = kernel_clients(ctx.host)
    if kernel_id in clients.died:  # the server's restarter replaced the process already
        clients.died.discard(kernel_id)
        clients.drop(kernel_id)
        await _until_alive(ctx, kernel_id)
    else:
        await restart(ctx, kernel_id)


async def heal_silent(ctx: ToolContext, kernel_id: str) -> str:
    """Replace a kernel that did not answer the probe sent with a request (see ensure_session):
    why it was replaced. Its process is killed by the restart, with the request it never ran."""
    death = await _why_silent(ctx, kernel_id)
    await _heal(ctx, kernel_id)
    return death


async def _death_of(ctx: ToolContext, kernel_id: str, *, probe: bool = True) -> str | None:
    """Why the kernel cannot run code any more, or None when it is healthy (as far as can be told
    without asking it, when not ``probe``)."""
    clients = kernel_clients(ctx.host)
    if kernel_id in clients.died:
        return "died since it last ran (the server started a fresh process)"
    if not await _is_alive(ctx, kernel_id):
        return "died (its process is gone)"
    known = clients.clients.get(kernel_id)
    # A kernel busy with someone's run answers nothing: only an idle one is asked whether it still answers.
    if probe and known is not None and not known.lock.locked() and kernel_alive_state(ctx, kernel_id) == "idle":
        async with known.lock:
            answered = await answers(known.client, known.client.kernel_info(), ctx.config(NotebookPack).kernel_info_timeout)
        if not answered:
            return await _why_silent(ctx, kernel_id)
    return None


async def _why_silent(ctx: ToolContext, kernel_id: str) -> str:
    if kernel_id in kernel_clients(ctx.host).died or not await _is_alive(ctx, kernel_id):
        return "died (its process is gone)"  # killed just before the probe, noticed only now
    return f"stopped answering (no kernel_info reply within {ctx.config(NotebookPack).kernel_info_timeout:g}s)"


async def answers(
    client: KernelConnection, msg_id: str, timeout: float, on_other: Callable[[dict[str, Any]], None] | None = None
) -> bool:
    """Whether the kernel replies to the request ``msg_id`` (a kernel_info) within ``timeout`` seconds.
    Other shell replies read meanwhile go to ``on_other`` (dropped without it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            reply = await client.get_shell_msg(timeout=left)
        except Empty:
            return False
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return True
        if on_other is not None:
            on_other(reply)
    return False


async def _until_alive(ctx: ToolContext, kernel_id: str) -> None:
    """Wait (bounded) for a kernel the server is restarting to have a process again."""
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
    while not await _is_alive(ctx, kernel_id):
        if asyncio.get_running_loop().time() > deadline:
            raise ToolError(f"The kernel {kernel_id} did not come back after the server restarted it; call restart_kernel.")
        await asyncio.sleep(0.1)


async def _is_alive(ctx: ToolContext, kernel_id: str) -> bool:
    return await ctx.backend.kernels.is_alive(kernel_id)


async def restart(ctx: ToolContext, kernel_id: str) -> None:
    clients = kernel_clients(ctx.host)
    clients.drop(kernel_id)
    clients.died.discard(kernel_id)
    await ctx.backend.kernels.restart(kernel_id)


async def session_or_error(ctx: ToolContext, api_path: str) -> dict[str, Any]:
    session = await find_session(ctx, api_path)
    if session is None:
        raise NotFound(f"{api_path!r} has no kernel. Start one with create_notebook_session or execute_notebook_cell.")
    return session


# -- tools ------------------------------------------------------------------------------------


class KernelArgs(BaseModel):
    path: str | None = PATH


class KernelState(BaseModel):
    path: str
    kernel_id: str
    kernel_name: str | None = None
    execution_state: str = Field(description="idle, busy, starting, restarting or dead.")
    message: str


@tool(permission="execute", title="Interrupt the kernel", destructive=False)
async def interrupt_kernel(ctx: ToolContext, args: KernelArgs) -> KernelState:
    """Interrupt what the notebook's kernel is running (like the stop button). Variables are kept."""
    api_path = await notebook_path(ctx)
    session = await session_or_error(ctx, api_path)
    kernel_id = session["kernel"]["id"]
    if not ctx.backend.kernels.exists(kernel_id):
        raise ToolError(f"The kernel of {api_path!r} is gone; call restart_kernel.")
    await ctx.backend.kernels.interrupt(kernel_id)
    return KernelState(
        path=api_path,
        kernel_id=kernel_id,
        kernel_name=session["kernel"].get("name"),
        execution_state=kernel_alive_state(ctx, kernel_id),
        message="Interrupt sent to the kernel.",
    )


@tool(permission="execute", title="Restart the kernel", destructive=True)
async def restart_kernel(ctx: ToolContext, args: KernelArgs) -> KernelState:
    """Restart the notebook's kernel: every variable is lost, outputs in the notebook stay."""
    api_path = await notebook_path(ctx)
    session = await session_or_error(ctx, api_path)
    kernel_id = session["kernel"]["id"]
    await restart(ctx, kernel_id)
    await kernel_clients(ctx.host).get(ctx, kernel_id)  # ready before answering
    return KernelState(
        path=api_path,
        kernel_id=kernel_id,
        kernel_name=session["kernel"].get("name"),
        execution_state=kernel_alive_state(ctx, kernel_id),
        message="Kernel restarted; its variables are gone.",
    )


class ListKernelsArgs(BaseModel):
    pass


class RunningKernel(BaseModel):
    kernel_id: str
    kernel_name: str
    execution_state: str
    connections: int
    last_activity: str | None = None
    notebooks: list[str] = Field(description="Notebooks whose session uses this kernel.")


class KernelSpecInfo(BaseModel):
    name: str
    display_name: str
    language: str | None = None


class KernelList(BaseModel):
    kernels: list[RunningKernel]
    kernel_specs: list[KernelSpecInfo]
    default_kernel: str


@tool(permission="read", title="List kernels")
async def list_kernels(ctx: ToolContext, args: ListKernelsArgs) -> KernelList:
    """Running kernels (with the notebooks using them) and the kernels that can be started."""
    service = ctx.backend.kernels
    by_kernel: dict[str, list[str]] = {}
    for session in await service.list_sessions():
        if session.get("kernel"):
            by_kernel.setdefault(session["kernel"]["id"], []).append(session.get("path") or "")
    kernels = [
        RunningKernel(
            kernel_id=k["id"],
            kernel_name=k.get("name", ""),
            execution_state=k.get("execution_state", "unknown"),
            connections=k.get("connections", 0),
            last_activity=str(k.get("last_activity") or "") or None,
            notebooks=by_kernel.get(k["id"], []),
        )
        for k in await service.list_kernels()
    ]
    specs = await list_kernelspecs(ctx, ListKernelsArgs())
    return KernelList(kernels=kernels, kernel_specs=specs.kernel_specs, default_kernel=specs.default_kernel)


class KernelSpecs(BaseModel):
    kernel_specs: list[KernelSpecInfo]
    default_kernel: str = Field(description="Started for notebooks whose metadata names no installed kernel.")


@tool(permission="read", title="List kernel specs")
async def list_kernelspecs(ctx: ToolContext, args: ListKernelsArgs) -> KernelSpecs:
    """The kernels that can be started (pass a name as kernel_name to create_notebook_session)."""
    kernels = ctx.backend.kernels
    specs = await kernels.kernel_specs()
    return KernelSpecs(
        kernel_specs=[
            KernelSpecInfo(
                name=name, display_name=s["spec"].get("display_name", name), language=s["spec"].get("language")
            )
            for name, s in sorted(specs.items())
        ],
        default_kernel=ctx.config(NotebookPack).kernel_name or await kernels.default_kernel_name(),
    )

