"""MCP completeness: unknown tools, subscriptions to any URI, resources that do not exist."""

from __future__ import annotations

import asyncio

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from collab_mcp_core.testing import call, connect


async def test_unknown_tool_is_a_json_rpc_error_with_a_suggestion(collab_server):
    async with connect(collab_server) as session:
        with pytest.raises(MCPError) as raised:
            await session.call_tool("get_notebok", {"path": "x.ipynb"})
        # Nothing ran: the server still answers, and the misspelt call left no trace.
        assert await call(session, "list_notebooks") is not None
    error = raised.value.error
    assert error.code == types.INVALID_PARAMS  # what the 2025-11-25 spec gives for an unknown tool
    assert "Unknown tool 'get_notebok'" in error.message and "Did you mean 'get_notebook'" in error.message
    assert "list_notebooks" in error.message  # the tools the caller may call, listed


async def test_unknown_tool_without_a_near_name_lists_the_tools(collab_server):
    async with connect(collab_server, modern=True) as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("zzzz", {})
    assert "Did you mean" not in raised.value.error.message and "get_notebook" in raised.value.error.message


async def test_a_subscription_to_a_document_that_does_not_exist_fires_when_it_appears(collab_server):
    updates: list[str] = []

    async def on_message(message):
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    (collab_server.root / "later").mkdir(exist_ok=True)
    uri = "document://later/notes.md"
    async with connect(collab_server, message_handler=on_message) as session:
        await session.subscribe_resource(uri)
        await asyncio.sleep(1.5)
        assert updates == []  # nothing there yet, nothing announced
        await call(session, "create_document_session", path="later/notes.md", create=True)
        for _ in range(100):
            if uri in updates:
                break
            await asyncio.sleep(0.1)
    assert uri in updates


async def test_any_well_formed_uri_can_be_subscribed_and_unsubscribed(collab_server):
    async with connect(collab_server) as session:
        await session.subscribe_resource("test://watched-resource")  # no pack serves test://: it never fires
        await session.unsubscribe_resource("test://watched-resource")
        with pytest.raises(MCPError) as raised:
            await session.subscribe_resource("not a uri")
        assert raised.value.error.code == types.INVALID_PARAMS and "not a URI" in raised.value.error.message
        with pytest.raises(MCPError) as outside:
            await session.subscribe_resource("notebook://../secret.ipynb")
        assert "leaves the server root" in outside.value.error.message


async def test_reading_a_resource_that_does_not_exist_is_32002(collab_server):
    async with connect(collab_server) as session:
        for uri in ("test://watched-resource", "notebook://missing.ipynb"):
            with pytest.raises(MCPError) as raised:
                await session.read_resource(uri)
            assert raised.value.error.code == -32002, (uri, raised.value.error)
