"""Bridge mode: relay MCP between a local stdio client and a server's collab-mcp endpoint.

Every message passes through unchanged, in both directions: the client sees
the server's own tools, results, progress and notifications, and the server
checks the identity of the token as for any HTTP client. The only thing added
is what Streamable HTTP needs and stdio does not carry: the
``MCP-Protocol-Version`` header (and, for the 2026-07-28 revision, the method
and name headers), read from the negotiated handshake or each request's
``_meta``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp.client.streamable_http import streamable_http_client
from mcp.server.stdio import stdio_server
from mcp.shared.inbound import (
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PROTOCOL_VERSION_HEADER,
    NAME_BEARING_METHODS,
    encode_header_value,
)
from mcp.shared.message import ClientMessageMetadata, SessionMessage

from .connect import Target

log = logging.getLogger(__name__)

# Long runs answer late: no read timeout shorter than an execution may take.
UPSTREAM_TIMEOUT = httpx2.Timeout(30.0, read=3600.0)


class ProtocolHeaders:
    """Which protocol-version headers each client message needs on its HTTP request."""

    def __init__(self) -> None:
        self.negotiated: str | None = None
        self._initialize_ids: set[Any] = set()

    def for_client(self, message: Any) -> dict[str, str] | None:
        if isinstance(message, types.JSONRPCRequest):
            if message.method == "initialize":
                self._initialize_ids.add(message.id)
                return None
            params = message.params or {}
            version = (params.get("_meta") or {}).get(types.PROTOCOL_VERSION_META_KEY)
            if version:  # 2026-07-28: every request says which revision it speaks
                headers = {MCP_PROTOCOL_VERSION_HEADER: version, MCP_METHOD_HEADER: message.method}
                name_key = NAME_BEARING_METHODS.get(message.method)
                if name_key and isinstance(params.get(name_key), str):
                    headers[MCP_NAME_HEADER] = encode_header_value(params[name_key])
                return headers
        return {MCP_PROTOCOL_VERSION_HEADER: self.negotiated} if self.negotiated else None

    def from_server(self, message: Any) -> None:
        if isinstance(message, types.JSONRPCResponse) and message.id in self._initialize_ids:
            self._initialize_ids.discard(message.id)
            version = (message.result or {}).get("protocolVersion")
            if isinstance(version, str):
                self.negotiated = version


async def relay(
    target: Target,
    client_read: Any,
    client_write: Any,
) -> None:
    """Relay between a client's streams and ``target``'s MCP endpoint until either side ends."""
    headers = ProtocolHeaders()
    async with (
        target.http_client(scheme="Bearer", timeout=UPSTREAM_TIMEOUT) as http,
        streamable_http_client(target.mcp_url, http_client=http) as (server_read, server_write),
        anyio.create_task_group() as tasks,
    ):

        async def to_server() -> None:
            async for item in client_read:
                if isinstance(item, Exception):
                    log.warning("collab-mcp connect: unreadable message from the client: %s", item)
                    continue
                stamp = headers.for_client(item.message)
                metadata = ClientMessageMetadata(headers=stamp) if stamp else item.metadata
                await server_write.send(SessionMessage(item.message, metadata=metadata))
            tasks.cancel_scope.cancel()  # the client closed stdin: we are done

        async def to_client() -> None:
            async for item in server_read:
                if isinstance(item, Exception):
                    log.warning("collab-mcp connect: %s", item)
                    continue
                headers.from_server(item.message)
                await client_write.send(SessionMessage(item.message))
            tasks.cancel_scope.cancel()

        tasks.start_soon(to_server)
        tasks.start_soon(to_client)


async def run_stdio_bridge(target: Target) -> None:
    """Serve the bridge on this process's stdin and stdout."""
    async with stdio_server() as (client_read, client_write):
        await relay(target, client_read, client_write)
    print("collab-mcp connect: the client closed the connection", file=sys.stderr)
