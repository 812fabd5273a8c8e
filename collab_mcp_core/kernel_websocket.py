"""A client of one kernel over Jupyter's kernel websocket (``api/kernels/{id}/channels``).

Jupyter servers, Kernel and Enterprise Gateways all serve this websocket: one
socket carries the five channels of the Jupyter messaging protocol as JSON
messages, each naming its ``channel``. The client reads the socket in one task
and hands messages to per-channel asyncio queues, so waiting for the next
message sleeps until one arrives (jupyter_server's own gateway client polls
its queues with ``asyncio.sleep(0)`` and keeps a core busy while a kernel is
silent). Status messages that belong to no request (``restarting``, ``dead``)
and a socket that closes under us mean the kernel died: ``on_death`` callbacks
hear of it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import struct
import uuid
from collections.abc import Callable
from queue import Empty
from typing import Any

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

log = logging.getLogger(__name__)

PROTOCOL_VERSION = "5.3"
PING_INTERVAL = 30.0  # seconds; keeps proxies from closing a quiet socket, one wake-up per interval
DEATH_STATES = ("restarting", "dead")  # what a server announces, unasked, when a kernel process died


class KernelWebsocketError(ConnectionError):
    """The kernel websocket could not be opened (refused, unreachable, timed out)."""


class KernelWebsocket:
    """One connected client of a kernel: send requests, read replies and iopub messages.

    The method names are those of jupyter_client's ``AsyncKernelClient`` that
    the packs use (:class:`~collab_mcp_core.backend_protocol.KernelConnection`).
    """

    def __init__(self, ws: WebSocketClientConnection, session_id: str) -> None:
        self._ws = ws
        self.session_id = session_id
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {
            name: asyncio.Queue() for name in ("shell", "iopub", "stdin", "control")
        }
        self._death_callbacks: list[Callable[[bool], None]] = []
        self._closing = False
        self.closed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(
        cls, url: str, headers: dict[str, str], *, timeout: float, session_id: str | None = None, **request: Any
    ) -> KernelWebsocket:
        """Connect to ``url`` (``ws(s)://.../api/kernels/{id}/channels``) with ``headers``.

        ``session_id`` names our session to the server (a new one by default). Reconnecting with
        the one of a socket that dropped gets what the server buffered for it meanwhile: jupyter_server
        keeps a kernel's messages while no client is connected to it, and replays them to the client
        that comes back with the same session id (it discards them if another client connects first).
        ``request`` goes to tornado's ``HTTPRequest`` (``validate_cert``, ``ca_certs``,
        ``client_cert``, ``client_key``...).
        """
        session_id = session_id or uuid.uuid4().hex
        separator = "&" if "?" in url else "?"
        target = HTTPRequest(
            f"{url}{separator}session_id={session_id}", headers=headers, connect_timeout=timeout,
            request_timeout=timeout, **request,
        )
        try:
            ws = await websocket_connect(target, ping_interval=PING_INTERVAL, max_message_size=1 << 30)
        except HTTPClientError as err:
            raise KernelWebsocketError(f"the kernel websocket was refused (HTTP {err.code}: {err.message})") from err
        except (OSError, asyncio.TimeoutError) as err:
            raise KernelWebsocketError(f"the kernel websocket could not be opened ({err or type(err).__name__})") from err
        return cls(ws, session_id)

    # -- requests ------------------------------------------------------------------------------

    def execute(self, code: str, *, silent: bool = False, store_history: bool = True, allow_stdin: bool = False,
                stop_on_error: bool = True, user_expressions: dict[str, str] | None = None) -> str:
        """Send an ``execute_request``; returns its msg_id."""
        return self._send("shell", "execute_request", {
            "code": code, "silent": silent, "store_history": store_history, "allow_stdin": allow_stdin,
            "stop_on_error": stop_on_error, "user_expressions": user_expressions or {},
        })

    def kernel_info(self) -> str:
        """Send a ``kernel_info_request``; returns its msg_id."""
        return self._send("shell", "kernel_info_request", {})

    def _send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        if self.closed.is_set():
            raise KernelWebsocketError("the kernel websocket is closed")
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id, "msg_type": msg_type, "username": "collab-mcp", "session": self.session_id,
            "date": datetime.datetime.now(datetime.UTC).isoformat(), "version": PROTOCOL_VERSION,
        }
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": channel,
                   "buffers": []}
        self._ws.write_message(json.dumps(message))
        return msg_id

    # -- messages ------------------------------------------------------------------------------

    async def get_shell_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next shell reply; ``queue.Empty`` after ``timeout`` seconds."""
        return await self._get("shell", timeout)

    async def get_iopub_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next iopub message; ``queue.Empty`` after ``timeout`` seconds."""
        return await self._get("iopub", timeout)

    async def _get(self, channel: str, timeout: float | None) -> dict[str, Any]:
        queue = self._queues[channel]
        if not queue.empty():
            return queue.get_nowait()
        if timeout is None and self.closed.is_set():
            raise KernelWebsocketError("the kernel websocket is closed")
        if timeout is not None and timeout <= 0:
            raise Empty
        try:
            return await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            raise Empty from None

    async def wait_for_ready(self, timeout: float) -> None:
        """Wait until the kernel answers a ``kernel_info_request``; ``TimeoutError`` otherwise."""
        async with asyncio.timeout(timeout):
            while True:  # a kernel still starting may drop the first request: ask again each second
                msg_id = self.kernel_info()
                with contextlib.suppress(Empty):
                    while True:
                        reply = await self.get_shell_msg(timeout=1.0)
                        if reply.get("parent_header", {}).get("msg_id") == msg_id:
                            break
                    break
        # Status messages of our kernel_info requests are no output of anyone's run.
        while not self._queues["iopub"].empty():
            self._queues["iopub"].get_nowait()

    def carry_over(self, previous: KernelWebsocket) -> None:
        """Put what ``previous`` (the dropped socket this one replaces) received but nobody read yet
        ahead of what this one received so far, so a reader misses nothing and keeps the order."""
        for name, queue in self._queues.items():
            unread = previous._queues[name]
            newer = [queue.get_nowait() for _ in range(queue.qsize())]
            for message in [*(unread.get_nowait() for _ in range(unread.qsize())), *newer]:
                queue.put_nowait(message)

    def on_death(self, callback: Callable[[bool], None]) -> Callable[[], None]:
        """Call ``callback(restarting)`` when the server says the kernel died (``restarting``: the server
        restarts it), or with ``False`` when the socket closes without our asking."""
        self._death_callbacks.append(callback)
        return lambda: self._death_callbacks.remove(callback) if callback in self._death_callbacks else None

    def close(self) -> None:
        """Close the socket (no death is reported)."""
        self._closing = True
        self._ws.close()
        self._reader.cancel()
        self.closed.set()

    # -- the reader ----------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            while (raw := await self._ws.read_message()) is not None:
                message = decode(raw)
                channel = message.get("channel")
                if channel == "iopub" and (state := _announced_death(message)):
                    self._died(state == "restarting")
                queue = self._queues.get(channel or "")
                if queue is not None:
                    queue.put_nowait(message)
        finally:
            self.closed.set()
            if not self._closing:
                log.info("kernel websocket closed (code %s)", self._ws.close_code)
                self._died(False)

    def _died(self, restarting: bool) -> None:
        for callback in list(self._death_callbacks):
            try:
                callback(restarting)
            except Exception:  # one listener's bug must not hide the death from the others
                log.exception("kernel death callback failed")


def _announced_death(message: dict[str, Any]) -> str | None:
    """``restarting`` or ``dead`` from a status message the server sent on its own (no parent request)
    saying the kernel died; None for any other message."""
    state = message.get("content", {}).get("execution_state")
    if (
        message.get("msg_type", message.get("header", {}).get("msg_type")) == "status"
        and state in DEATH_STATES
        and not message.get("parent_header", {}).get("msg_id")
    ):
        return str(state)
    return None


def decode(raw: str | bytes) -> dict[str, Any]:
    """A message from the socket: JSON text, or the binary form that carries buffers
    (a count, offsets, the JSON part, then the buffers)."""
    if isinstance(raw, str):
        message = json.loads(raw)
    else:
        count = struct.unpack("!I", raw[:4])[0]
        offsets = [*struct.unpack(f"!{count}I", raw[4 : 4 * (count + 1)]), len(raw)]
        parts = [raw[offsets[i] : offsets[i + 1]] for i in range(count)]
        message = json.loads(parts[0])
        message["buffers"] = parts[1:]
    message.setdefault("msg_type", message.get("header", {}).get("msg_type"))
    message.setdefault("msg_id", message.get("header", {}).get("msg_id"))
    return message
