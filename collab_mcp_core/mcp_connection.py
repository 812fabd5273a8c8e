"""The one place collab-mcp reaches into the MCP SDK's private objects: a request's connection.

The host needs the long-lived connection behind each request for two things: the
MCP session id (``connection.session_id``: per-session state, identities and log
levels are keyed by it) and notifications outside any request (resource updates,
log messages, ``tools/list_changed``: ``connection.notify(...)``). In mcp 2.x the
low-level server hands handlers a ``ServerRequestContext`` whose ``session`` (a
``ServerSession``) holds the connection only as ``_connection``. The public
``mcp.server.context.Context`` has ``.connection`` and ``.session_id``, but its
docstring says ``ServerRunner`` does not construct it; the request's
``Mcp-Session-Id`` header is absent on the ``initialize`` request and on stdio.
So there is no public way today; ``tests/test_mcp_connection.py`` fails if the
SDK moves this attribute, and this function is what to change then.
"""

from __future__ import annotations

from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext


def connection_of(ctx: ServerRequestContext) -> Connection:
    """The long-lived connection behind a request (the SDK has no public accessor, see above)."""
    return ctx.session._connection  # noqa: SLF001


def session_id_of(ctx: ServerRequestContext) -> str | None:
    """The request's MCP session id (None for the sessionless 2026-07-28 revision and stdio)."""
    return connection_of(ctx).session_id
