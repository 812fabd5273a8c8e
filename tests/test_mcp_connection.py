"""The host's one reach into the MCP SDK's private objects still finds the connection.

``collab_mcp_core.mcp_connection`` explains why there is no public way; this test
fails as soon as the SDK moves ``ServerSession._connection`` or drops
``Connection.session_id``, so the change is made in that one function.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

from mcp.server.connection import Connection
from mcp.server.context import Context, ServerRequestContext
from mcp.server.session import ServerSession

from collab_mcp_core.mcp_connection import connection_of, session_id_of


def test_the_connection_and_session_id_of_a_request_context():
    connection = SimpleNamespace(protocol_version="2025-11-25", session_id="s-123")
    session = ServerSession(SimpleNamespace(), connection)  # type: ignore[arg-type]
    ctx = ServerRequestContext(session=session, lifespan_context={}, protocol_version="2025-11-25", method="tools/call")
    assert connection_of(ctx) is connection
    assert session_id_of(ctx) == "s-123"


def test_connections_still_carry_a_session_id():
    assert "session_id" in inspect.get_annotations(Connection, eval_str=False)


def test_the_public_context_is_still_not_what_handlers_get():
    # If the SDK starts handing handlers a Context (which has a public .connection), use that instead.
    assert "connection" not in {f for f in ServerRequestContext.__dataclass_fields__}
    assert isinstance(inspect.getattr_static(Context, "connection"), property)
