"""Kernels on a Jupyter Kernel or Enterprise Gateway (the server runs with ``--gateway-url``).

jupyter_server's gateway managers start, interrupt, restart and list kernels
over the gateway's REST API, and that part is used as it is. Its kernel client
is not: it opens the kernel websocket without the gateway's auth headers (a
token-protected gateway answers 401; every jupyter_server from 1.7 to 2.21 does
this), blocks the event loop while connecting, and polls its queues with
``asyncio.sleep(0)``, keeping a core busy while a kernel is silent. Kernels
here are reached through :class:`~collab_mcp_core.kernel_websocket.KernelWebsocket`
with the headers, certificates and timeouts of ``c.GatewayClient``; the
gateway's restarter announces a dead kernel on that websocket, which is how
the packs hear of it. Gateway refusals become tool errors in the gateway's own
words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from tornado.web import HTTPError

from .errors import ToolError
from .kernel_websocket import KernelWebsocket, KernelWebsocketError
from .local_kernels import LocalKernels
from .remote_kernels import KernelDeaths, KernelLink, open_link


def gateway_enabled(serverapp: Any) -> bool:
    """Whether the server's kernels live on a gateway."""
    config = getattr(serverapp, "gateway_config", None)
    return bool(config is not None and config.gateway_enabled)


class GatewayKernels(LocalKernels):
    """The :class:`~collab_mcp_core.backend_protocol.Kernels` of a server whose kernels are on a gateway."""

    def __init__(self, serverapp: Any) -> None:
        super().__init__(serverapp)
        self._deaths = KernelDeaths()

    @property
    def gateway(self) -> Any:
        """jupyter_server's ``GatewayClient`` (``c.GatewayClient``: url, token, headers, certificates)."""
        return self.serverapp.gateway_config

    # -- what the gateway's REST API answers, with refusals in plain words ------------------------

    async def start_session(self, api_path: str, kernel_name: str) -> dict[str, Any]:
        with self._refusals(f"start a {kernel_name!r} kernel"):
            return await super().start_session(api_path, kernel_name)

    async def list_sessions(self) -> list[dict[str, Any]]:
        with self._refusals("list its kernels"):
            return await super().list_sessions()

    async def list_kernels(self) -> list[dict[str, Any]]:
        with self._refusals("list its kernels"):
            return await super().list_kernels()

    async def kernel_specs(self) -> dict[str, dict[str, Any]]:
        with self._refusals("list its kernel specs"):
            return await super().kernel_specs()

    async def interrupt(self, kernel_id: str) -> None:
        with self._refusals(f"interrupt kernel {kernel_id}"):
            await super().interrupt(kernel_id)

    async def restart(self, kernel_id: str) -> None:
        with self._refusals(f"restart kernel {kernel_id}"):
            await super().restart(kernel_id)

    async def is_alive(self, kernel_id: str) -> bool:
        # The gateway manager's is_alive() says True whatever its refreshed model holds.
        if not self.exists(kernel_id):
            return False
        with self._refusals(f"report on kernel {kernel_id}"):
            model = await self._kernels.get_kernel(kernel_id).refresh_model()
        return bool(model) and model.get("execution_state") != "dead"

    @contextlib.contextmanager
    def _refusals(self, action: str) -> Iterator[None]:
        try:
            yield
        except HTTPError as err:
            raise ToolError(f"The kernel gateway at {self.gateway.url} could not {action}: {plain_reason(err)}") from err

    # -- the kernel websocket ------------------------------------------------------------------

    async def connect(self, kernel_id: str, timeout: float) -> KernelLink:
        # The remote backend's link: a dropped socket is reopened, a death is one the gateway announces.
        return await open_link(self, kernel_id, timeout)

    async def _open_socket(self, kernel_id: str, timeout: float, session_id: str | None = None) -> KernelWebsocket:
        gateway = self.gateway
        url = "/".join(s.strip("/") for s in (gateway.ws_url, gateway.kernels_endpoint, quote(kernel_id, safe=""), "channels"))
        options = dict(gateway.load_connection_args())  # auth header (renewed), extra headers, certificates
        headers = options.pop("headers", {})
        for timing in ("connect_timeout", "request_timeout"):
            options.pop(timing, None)
        try:
            return await KernelWebsocket.open(url, headers, timeout=timeout, session_id=session_id, **options)
        except KernelWebsocketError as err:
            raise ToolError(f"Could not reach kernel {kernel_id} on the kernel gateway at {gateway.url}: {err}.") from err

    def disconnect(self, connection: Any) -> None:
        connection.close()

    def on_death(self, kernel_id: str, callback: Callable[[bool], None]) -> Callable[[], None]:
        return self._deaths.subscribe(kernel_id, callback)

    def _died(self, kernel_id: str, restarting: bool) -> None:
        self._deaths.announce(kernel_id, restarting)


def plain_reason(err: HTTPError) -> str:
    """What the gateway said, without jupyter_server's advice to check the gateway URL
    (which it adds to every error, a refusal included)."""
    # gateway_request raises HTTPError(code, "Error from Gateway: [%s] %s. Ensure...", message, reason)
    if err.log_message and err.log_message.startswith("Error from Gateway") and len(err.args) == 2:
        message, reason = (str(a).strip() for a in err.args)
        text = reason if not message or message in reason else f"{reason} ({message})"
        return f"{text} (HTTP {err.status_code})"
    if err.status_code == 503:
        return "it is not reachable (is it running, and is c.GatewayClient.url right?)"
    detail = err.log_message % err.args if err.log_message and err.args else (err.log_message or err.reason or "")
    return f"{detail} (HTTP {err.status_code})".strip()
