"""Documents as MCP resources with update notifications, and events with their author."""

from __future__ import annotations

import asyncio

import mcp_types as types
import pytest

from collab_mcp_core.testing import call, connect, join_room


@pytest.fixture(scope="module")
def server(collab_server_factory):
    return collab_server_factory("--DocumentPack.resource_debounce=0.3")


def events(server, kind: str, path: str) -> list[dict]:
    return [e for e in server.events(kind) if e.get("path") == path]


async def test_resources_list_read_and_notify_subscribers(server) -> None:
    (server.root / "res").mkdir()
    (server.root / "res" / "watched.md").write_text("# Wätched\n", encoding="utf-8")
    (server.root / "res" / "other.py").write_text("x = 1\n", encoding="utf-8")
    updates: list[str] = []

    async def on_message(message) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    uri = "document://res/watched.md"
    async with connect(server, message_handler=on_message) as mcp:
        listed = {str(r.uri) for r in (await mcp.list_resources()).resources}
        assert {uri, "document://res/other.py"} <= listed
        templates = await mcp.list_resource_templates()
        assert "document://{path}" in [t.uri_template for t in templates.resource_templates]
        assert (await mcp.read_resource(uri)).contents[0].text == "# Wätched\n"

        await mcp.subscribe_resource(uri)
        async with join_room(server, "res/watched.md", kind="file") as ada:
            await ada.wait_for(lambda: str(ada.text) == "# Wätched\n", what="the file")
            for ch in "typed ✓":
                ada.text.insert(len(ada.text), ch)
                await asyncio.sleep(0.01)
            await ada.wait_for(lambda: updates, timeout=10, what="a resources/updated notification")
            await asyncio.sleep(1.0)
            assert set(updates) == {uri} and len(updates) <= 2, updates  # debounced burst

            updates.clear()
            await call(mcp, "insert_text", path="res/watched.md", content="\nby the agent", position=-1)
            await ada.wait_for(lambda: updates, timeout=10, what="a notification after the agent's edit")
        assert (await mcp.read_resource(uri)).contents[0].text == "# Wätched\ntyped ✓\nby the agent"


async def test_every_change_emits_an_event_with_its_author(server) -> None:
    path = "evented.txt"
    (server.root / path).write_text("start\n", encoding="utf-8")
    async with connect(server) as mcp:
        inserted = await call(mcp, "insert_text", path=path, content="é", position=0)
        await call(mcp, "delete_text", path=path, position=0, length=1)
        fork = await call(mcp, "fork_document", path=path, title="draft")
        await call(mcp, "insert_text", path=path, content="in fork\n", position=-1, fork_id=fork["fork_id"])
        await call(mcp, "merge_document_fork", path=path, fork_id=fork["fork_id"])
        dropped = await call(mcp, "fork_document", path=path)
        await call(mcp, "discard_document_fork", path=path, fork_id=dropped["fork_id"])
        history = await call(mcp, "get_document_history", path=path, limit=50)
        await call(mcp, "restore_document_version", path=path, version_id=history["versions"][-1]["version_id"])

    changed = events(server, "document_changed", path)
    assert [(e["operation"], e["fork_id"]) for e in changed] == [
        ("insert", None), ("delete", None), ("insert", fork["fork_id"])
    ]
    assert changed[0]["version"] == inserted["version"] and changed[0]["characters_added"] == 1
    actors = {e["actor"] for e in changed}
    assert len(actors) == 1 and None not in actors
    forked = events(server, "document_forked", path)
    assert [e["fork_id"] for e in forked] == [fork["fork_id"], dropped["fork_id"]] and forked[0]["title"] == "draft"
    assert [e["fork_id"] for e in events(server, "document_fork_merged", path)] == [fork["fork_id"]]
    assert [e["fork_id"] for e in events(server, "document_fork_discarded", path)] == [dropped["fork_id"]]
    restored = events(server, "document_restored", path)
    assert len(restored) == 1 and restored[0]["actor"] in actors
