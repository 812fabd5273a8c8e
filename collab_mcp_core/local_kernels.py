"""Kernels of the Jupyter server: its session and kernel managers (the backend's kernels).

Calls that a gateway kernel manager makes coroutines (``list_kernels``,
``start_channels``, kernel specs) are awaited when they are.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .awaiting import await_maybe

DEATH_EVENTS = {"restart": True, "dead": False}  # what the server's restarter reports -> restarting


class LocalKernels:
    """The :class:`~collab_mcp_core.backend_protocol.Kernels` of the server this extension runs in."""

    def __init__(self, serverapp: Any) -> None:
        self.serverapp = serverapp

    @property
    def _kernels(self) -> Any:
        return self.serverapp.kernel_manager

    async def list_sessions(self) -> list[dict[str, Any]]:
        return list(await self.serverapp.session_manager.list_sessions())

    async def start_session(self, api_path: str, kernel_name: str) -> dict[str, Any]:
        return await self.serverapp.session_manager.create_session(
            path=api_path, name=posixpath.basename(api_path), type="notebook", kernel_name=kernel_name
        )

    async def list_kernels(self) -> list[dict[str, Any]]:
        return list(await await_maybe(self._kernels.list_kernels()))

    async def kernel_specs(self) -> dict[str, dict[str, Any]]:
        return dict(await await_maybe(self._kernels.kernel_spec_manager.get_all_specs()))

    async def default_kernel_name(self) -> str:
        return str(self._kernels.default_kernel_name)

    def exists(self, kernel_id: str) -> bool:
        return kernel_id in self._kernels

    async def is_alive(self, kernel_id: str) -> bool:
        if not self.exists(kernel_id):
            return False
        kernel = self._kernels.get_kernel(kernel_id)
        if _is_zombie(getattr(getattr(kernel, "provisioner", None), "pid", None)):
            return False
        return bool(await await_maybe(kernel.is_alive()))

    def execution_state(self, kernel_id: str) -> str:
        if not self.exists(kernel_id):
            return "dead"
        return getattr(self._kernels.get_kernel(kernel_id), "execution_state", "unknown")

    async def interrupt(self, kernel_id: str) -> None:
        await await_maybe(self._kernels.interrupt_kernel(kernel_id))

    async def restart(self, kernel_id: str) -> None:
        await await_maybe(self._kernels.restart_kernel(kernel_id))

    async def connect(self, kernel_id: str, timeout: float) -> Any:
        client = self._kernels.get_kernel(kernel_id).client()
        await await_maybe(client.start_channels())
        try:
            await client.wait_for_ready(timeout=timeout)
        except BaseException:  # also when the caller's timeout cancels the wait
            self.disconnect(client)
            raise
        return client

    def disconnect(self, connection: Any) -> None:
        connection.stop_channels()

    def on_death(self, kernel_id: str, callback: Callable[[bool], None]) -> Callable[[], None]:
        manager = self._kernels.get_kernel(kernel_id)
        told = {event: (lambda r=restarting: callback(r)) for event, restarting in DEATH_EVENTS.items()}
        for event, tell in told.items():
            manager.add_restart_callback(tell, event)

        def unsubscribe() -> None:
            for event, tell in told.items():
                manager.remove_restart_callback(tell, event)

        return unsubscribe


def _is_zombie(pid: int | None) -> bool:
    """Whether a kernel's process died without being reaped yet.

    Seen in the notebook pack's tests: right after a SIGKILL, the kernel
    manager's is_alive still said True while /proc showed the process dead,
    and a run sent then was lost. Without /proc this says False and is_alive decides.
    """
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return Path("/proc/self").exists()  # gone altogether, on a system that has /proc
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] in (["Z"], ["X"])
