"""Kernels of a remote Jupyter server: its sessions and kernels REST API, and the kernel websocket.

``exists`` and ``execution_state`` must answer without a request (the protocol
makes them synchronous): they answer from what the last listing, start or
websocket message said, and a kernel the server no longer knows (404) or whose
websocket announced its death is forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections.abc import Callable
from queue import Empty
from typing import Any, Protocol
from urllib.parse import quote

import httpx2
from tornado.websocket import WebSocketClosedError

from .connect import Target
from .errors import ToolError
from .kernel_websocket import KernelWebsocket, KernelWebsocketError

log = logging.getLogger(__name__)

RECONNECT_TIMEOUT = 10.0  # seconds for each attempt to reopen a dropped kernel websocket
READ_SLICE = 0.5  # seconds a read waits on one socket before looking whether it was replaced


class RemoteKernels:
    """The :class:`~collab_mcp_core.backend_protocol.Kernels` of a remote server."""

    def __init__(self, target: Target, http: httpx2.AsyncClient) -> None:
        self.target, self.http = target, http
        self._states: dict[str, str] = {}  # kernel id -> execution state, as last heard
        self._deaths = KernelDeaths()

    async def _request(self, method: str, path: str, action: str, **kwargs: Any) -> Any:
        try:
            answer = await self.http.request(method, self.target.url + path, **kwargs)
        except httpx2.HTTPError as err:
            raise ToolError(f"The Jupyter server at {self.target.url} could not {action}: it is not reachable "
                            f"({type(err).__name__}); try again once it is back.") from err
        if answer.status_code >= 400:
            reason = (answer.json() if "json" in answer.headers.get("content-type", "") else {}).get("message", "")
            raise ToolError(f"The Jupyter server could not {action} (HTTP {answer.status_code}{': ' + reason if reason else ''}).")
        return answer.json() if answer.content else None

    def _remember(self, kernel: dict[str, Any] | None) -> None:
        if kernel and kernel.get("id"):
            self._states[kernel["id"]] = kernel.get("execution_state", "unknown")

    async def list_sessions(self) -> list[dict[str, Any]]:
        sessions = await self._request("GET", "api/sessions", "list its kernel sessions")
        for session in sessions:
            self._remember(session.get("kernel"))
        return sessions

    async def start_session(self, api_path: str, kernel_name: str) -> dict[str, Any]:
        body = {"path": api_path, "name": posixpath.basename(api_path), "type": "notebook", "kernel": {"name": kernel_name}}
        session = await self._request("POST", "api/sessions", f"start a {kernel_name!r} kernel", json=body)
        self._remember(session.get("kernel"))
        return session

    async def list_kernels(self) -> list[dict[str, Any]]:
        kernels = await self._request("GET", "api/kernels", "list its kernels")
        for kernel in kernels:
            self._remember(kernel)
        for gone in set(self._states) - {k["id"] for k in kernels}:
            self._states.pop(gone, None)
        return kernels

    async def kernel_specs(self) -> dict[str, dict[str, Any]]:
        return dict((await self._request("GET", "api/kernelspecs", "list its kernel specs"))["kernelspecs"])

    async def default_kernel_name(self) -> str:
        return str((await self._request("GET", "api/kernelspecs", "list its kernel specs"))["default"])

    def exists(self, kernel_id: str) -> bool:
        return kernel_id in self._states

    async def is_alive(self, kernel_id: str) -> bool:
        answer = await self.http.get(self.target.url + f"api/kernels/{quote(kernel_id, safe='')}")
        if answer.status_code == 404:
            self._states.pop(kernel_id, None)
            return False
        if answer.status_code != 200:
            return False
        self._remember(answer.json())
        return self._states.get(kernel_id) != "dead"

    def execution_state(self, kernel_id: str) -> str:
        return self._states.get(kernel_id, "dead")

    async def interrupt(self, kernel_id: str) -> None:
        await self._request("POST", f"api/kernels/{quote(kernel_id, safe='')}/interrupt", f"interrupt kernel {kernel_id}")

    async def restart(self, kernel_id: str) -> None:
        kernel = await self._request("POST", f"api/kernels/{quote(kernel_id, safe='')}/restart", f"restart kernel {kernel_id}")
        self._remember(kernel)

    async def _open_socket(self, kernel_id: str, timeout: float, session_id: str | None = None) -> KernelWebsocket:
        url = "ws" + self.target.url[4:] + f"api/kernels/{quote(kernel_id, safe='')}/channels"
        try:
            return await KernelWebsocket.open(
                url, self.target.headers(), timeout=timeout, session_id=session_id, validate_cert=self.target.verify
            )
        except KernelWebsocketError as err:
            raise ToolError(f"Could not reach kernel {kernel_id} on {self.target.url}: {err}.") from err

    async def connect(self, kernel_id: str, timeout: float) -> KernelLink:
        link = await open_link(self, kernel_id, timeout)
        self._states.setdefault(kernel_id, "idle")
        return link

    def disconnect(self, connection: Any) -> None:
        connection.close()

    def on_death(self, kernel_id: str, callback: Callable[[bool], None]) -> Callable[[], None]:
        return self._deaths.subscribe(kernel_id, callback)

    def _died(self, kernel_id: str, restarting: bool) -> None:
        if not restarting:
            self._states[kernel_id] = "dead"
        self._deaths.announce(kernel_id, restarting)


class KernelDeaths:
    """Who listens for each kernel's death (the backend's ``on_death``), and telling them."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[Callable[[bool], None]]] = {}

    def subscribe(self, kernel_id: str, callback: Callable[[bool], None]) -> Callable[[], None]:
        """Call ``callback(restarting)`` when the kernel dies; returns the unsubscriber."""
        callbacks = self._callbacks.setdefault(kernel_id, [])
        callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks and self._callbacks.get(kernel_id) is callbacks:
                del self._callbacks[kernel_id]

        return unsubscribe

    def announce(self, kernel_id: str, restarting: bool) -> None:
        for callback in list(self._callbacks.get(kernel_id, ())):
            try:
                callback(restarting)
            except Exception:  # one listener's bug must not hide the death from the others
                log.exception("kernel death callback failed")


class LinkedKernels(Protocol):
    """What a :class:`KernelLink` needs of the kernels it belongs to (remote, or on a gateway)."""

    async def is_alive(self, kernel_id: str) -> bool: ...

    async def _open_socket(self, kernel_id: str, timeout: float, session_id: str | None = None) -> KernelWebsocket: ...

    def _died(self, kernel_id: str, restarting: bool) -> None: ...


async def open_link(kernels: LinkedKernels, kernel_id: str, timeout: float) -> KernelLink:
    """A link to the kernel over a new websocket, once the kernel answers."""
    socket = await kernels._open_socket(kernel_id, timeout)
    try:
        await socket.wait_for_ready(timeout)
    except BaseException:  # also when the caller's timeout cancels the wait
        socket.close()
        raise
    return KernelLink(kernels, kernel_id, socket)


class KernelLink:
    """A client of one remote kernel that outlives its websocket.

    A socket that closes under us is a network failure, not a dead kernel: the
    link opens a new one (meanwhile requests fail with a clear error and reads
    wait), and reports a death only when the server says the kernel is gone or
    the kernel announced it.
    """

    def __init__(self, kernels: LinkedKernels, kernel_id: str, socket: KernelWebsocket) -> None:
        self.kernels, self.kernel_id = kernels, kernel_id
        self._closed = False
        self._reconnecting: asyncio.Task | None = None
        self._use(socket)

    def _use(self, socket: KernelWebsocket) -> None:
        self.socket = socket
        socket.on_death(lambda restarting: self._on_death(socket, restarting))

    def _on_death(self, socket: KernelWebsocket, restarting: bool) -> None:
        if self._closed or socket is not self.socket:
            return
        if not socket.closed.is_set():  # the server said the kernel died (status restarting or dead)
            self.kernels._died(self.kernel_id, restarting)
        elif self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.1
        while not self._closed:
            try:
                if not await self.kernels.is_alive(self.kernel_id):
                    self.kernels._died(self.kernel_id, False)  # gone from the server, or dead there
                    return
                # Our session id again: the server replays what the kernel sent while we were away.
                socket = await self.kernels._open_socket(self.kernel_id, RECONNECT_TIMEOUT, self.socket.session_id)
            except (ToolError, httpx2.HTTPError):
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)
                continue
            log.info("kernel %s: websocket reopened", self.kernel_id)
            socket.carry_over(self.socket)
            self._use(socket)
            return

    def execute(self, code: str, **options: Any) -> str:
        return self._request(lambda: self.socket.execute(code, **options))

    def kernel_info(self) -> str:
        return self._request(self.socket.kernel_info)

    def _request(self, send: Callable[[], str]) -> str:
        try:
            return send()
        except (KernelWebsocketError, WebSocketClosedError):
            raise ToolError(f"The connection to kernel {self.kernel_id} dropped and is being re-established; "
                            "try again in a moment.") from None

    async def get_iopub_msg(self, timeout: float | None = None) -> dict[str, Any]:
        return await self._get("iopub", timeout)

    async def get_shell_msg(self, timeout: float | None = None) -> dict[str, Any]:
        return await self._get("shell", timeout)

    async def _get(self, channel: str, timeout: float | None) -> dict[str, Any]:
        # Waits in slices, so a socket replaced meanwhile is read from then on.
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else deadline - loop.time()
            slice_ = READ_SLICE if left is None else max(0.0, min(READ_SLICE, left))
            socket = self.socket
            try:
                return await (socket.get_iopub_msg if channel == "iopub" else socket.get_shell_msg)(timeout=slice_)
            except Empty:
                pass
            except KernelWebsocketError:
                await asyncio.sleep(min(0.1, slice_))
            if deadline is not None and loop.time() >= deadline:
                raise Empty

    def close(self) -> None:
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        self.socket.close()
