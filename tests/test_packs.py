"""Packs end to end: discovery, toggles, the example pack, validation, wrappers, events."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import mcp_types as types
import pytest

from collab_mcp_core.testing import call, call_error, connect, join_room

TESTS = Path(__file__).parent
SAMPLE = "--CollabMCP.extra_packs=sample_pack"
ENV = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture(scope="module")
def server(collab_server_factory):
    return collab_server_factory(SAMPLE, env=ENV)


async def tool_names(server) -> set[str]:
    async with connect(server) as session:
        return {t.name for t in (await session.list_tools()).tools}


def test_disabled_pack_is_never_imported():
    code = (
        "import sys\n"
        "from collab_mcp_core.packs import PackManager\n"
        "m = PackManager(disabled=['hello'])\n"
        "m.load_entry_points()\n"
        "assert m.installed['hello'].enabled is False\n"
        "assert 'collab_mcp_hello' not in sys.modules, 'the disabled pack was imported'\n"
        "m2 = PackManager(enabled=['auth'])\n"
        "m2.load_entry_points()\n"
        "assert 'collab_mcp_hello' not in sys.modules\n"
        "m3 = PackManager()\n"
        "m3.load_entry_points()\n"
        "assert 'collab_mcp_hello' in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


async def test_example_pack_is_discovered_and_callable(server):
    (server.root / "notes.txt").write_text("alpha beta\ngamma\n")
    async with connect(server) as session:
        assert await call(session, "word_count", path="notes.txt") == {"path": "notes.txt", "words": 3, "lines": 2}
        tools = {t.name: t for t in (await session.list_tools()).tools}
    assert tools["word_count"].meta["collab-mcp/pack"] == "hello"


async def test_example_authorization_rule_denies(server):
    (server.root / "secret").mkdir(exist_ok=True)
    (server.root / "secret" / "plans.txt").write_text("top secret\n")
    async with connect(server) as session:
        error = await call_error(session, "word_count", path="secret/plans.txt")
    assert error == "Permission denied: tool 'word_count' on 'secret/plans.txt': files under secret/ are private"


async def test_disabled_pack_tools_are_absent(collab_server_factory):
    server = collab_server_factory("--CollabMCP.disabled_packs=hello")
    assert "word_count" not in await tool_names(server)


async def test_allowed_and_denied_tools(collab_server_factory):
    allowed = collab_server_factory(SAMPLE, "--CollabMCP.allowed_tools=word_count", "--CollabMCP.allowed_tools=slow_progress", env=ENV)
    assert await tool_names(allowed) == {"word_count", "slow_progress"}
    denied = collab_server_factory(SAMPLE, "--CollabMCP.denied_tools=word_count", env=ENV)
    names = await tool_names(denied)
    assert "word_count" not in names and "slow_progress" in names


async def test_invalid_arguments_name_the_field_and_change_nothing(server):
    (server.root / "log.txt").write_text("start\n")
    async with join_room(server, "log.txt", kind="file") as collaborator:
        async with connect(server) as session:
            error = await call_error(session, "append_text", path="log.txt", text="x", times=99)
            assert "times" in error and "less than or equal to 10" in error
            error = await call_error(session, "append_text", path="log.txt")
            assert "text" in error and "Field required" in error
            error = await call_error(session, "append_text", path="log.txt", text="", times=1)
            assert "text" in error
            # and a valid call goes through, so the room was reachable all along
            assert (await call(session, "append_text", path="log.txt", text="ok\n"))["length"] == len("start\nok\n")
        await collaborator.wait_for(lambda: str(collaborator.text) == "start\nok\n", what="exactly one append")


async def test_call_tool_wrapper_can_refuse(server):
    (server.root / "w.txt").write_text("")
    async with connect(server) as session:
        error = await call_error(session, "append_text", path="w.txt", text="forbidden")
    assert "refuses" in error
    assert (server.root / "w.txt").read_text() == ""


async def test_progress_notifications_reach_the_caller(server):
    seen: list[float] = []

    async def on_progress(progress, total, message):
        seen.append(progress)

    async with connect(server) as session:
        result = await session.call_tool("slow_progress", {"steps": 4}, progress_callback=on_progress)
    assert not result.is_error
    assert seen == [1, 2, 3, 4]


async def test_tool_list_changed_is_sent_to_connected_sessions(collab_server_factory):
    server = collab_server_factory(SAMPLE, env=ENV)
    got = anyio.Event()

    async def on_message(message):
        if isinstance(message, types.ServerNotification) and isinstance(message, types.ToolListChangedNotification):
            got.set()
        elif getattr(message, "method", None) == "notifications/tools/list_changed":
            got.set()

    async with connect(server, message_handler=on_message) as watcher:
        await watcher.list_tools()
        async with connect(server) as admin:
            assert (await call(admin, "enable_bonus_tool")) == {"changed": True}
        with anyio.fail_after(10):
            await got.wait()
        assert "bonus_tool" in {t.name for t in (await watcher.list_tools()).tools}


async def test_events_reach_jupyters_event_bus_with_their_schema(server):
    (server.root / "e.txt").write_text("one\n")
    (server.root / "f.txt").write_text("two\n")
    async with connect(server) as session, connect(server) as other:
        await call(session, "word_count", path="e.txt")
        await call_error(session, "word_count", path="missing.txt")
        await call(other, "word_count", path="f.txt")
    deadline = anyio.current_time() + 10
    while anyio.current_time() < deadline:
        records = server.events()
        called = [r for r in server.events("tool_called") if r.get("path") == "e.txt"]
        failed = [r for r in server.events("tool_failed") if r.get("path") == "missing.txt"]
        others = [r for r in server.events("tool_called") if r.get("path") == "f.txt"]
        if called and failed and others:
            break
        await anyio.sleep(0.1)
    assert called and failed, records
    assert called[0]["__schema__"] == "https://collab-mcp.jupyter.org/events/tool_called"
    assert str(called[0]["__schema_version__"]) == "1"
    assert called[0]["pack"] == "hello" and called[0]["tool"] == "word_count"
    assert failed[0]["code"] == "not_found"
    # Each event names the MCP session of its call: one user's two agents are told apart.
    assert called[0]["session_id"] and called[0]["session_id"] == failed[0]["session_id"] != others[0]["session_id"]
    assert server.token not in server.events_path.read_text()


READ_ONLY_AUTHORIZER = '''
from jupyter_server.auth.authorizer import Authorizer

class ReadOnly(Authorizer):
    def is_authorized(self, handler, user, action, resource):
        return action == "read"

c.ServerApp.authorizer_class = ReadOnly
'''


async def test_jupyters_authorizer_decides_when_packs_abstain(collab_server_factory):
    server = collab_server_factory(SAMPLE, env=ENV, config_py=READ_ONLY_AUTHORIZER)
    (server.root / "ro.txt").write_text("one\n")
    async with connect(server) as session:
        assert (await call(session, "word_count", path="ro.txt"))["words"] == 1
        error = await call_error(session, "append_text", path="ro.txt", text="two\n")
        listed = {t.name for t in (await session.list_tools()).tools}
    assert "Permission denied" in error and "'write'" in error and "append_text" in error
    assert "word_count" in listed and "append_text" not in listed  # tools/list follows the Authorizer too
    assert (server.root / "ro.txt").read_text() == "one\n"


async def test_unknown_arguments_are_refused_naming_the_valid_ones(server):
    (server.root / "u.txt").write_text("")
    async with connect(server) as session:
        error = await call_error(session, "append_text", path="u.txt", text="x", tmes=2)
    assert "unknown argument(s) tmes" in error and "times" in error
    assert (server.root / "u.txt").read_text() == ""


async def test_authorization_sees_the_normalized_path(server):
    (server.root / "secret").mkdir(exist_ok=True)
    (server.root / "secret" / "n.txt").write_text("hidden words\n")
    async with connect(server) as session:
        for sneaky in ("./secret/n.txt", "secret//n.txt", "%73ecret/n.txt"):
            error = await call_error(session, "word_count", path=sneaky)
            assert "Permission denied" in error, sneaky


def test_a_tool_without_a_permission_stops_the_server_naming_the_tool(collab_server_factory):
    with pytest.raises(RuntimeError, match="exited") as refused:
        collab_server_factory("--CollabMCP.extra_packs=unpermitted_pack", env=ENV)
    assert "collab-mcp cannot start: tool 'wipe_everything' of pack 'unpermitted_pack' declares no permission" in str(
        refused.value
    )


async def test_the_default_content_limit_is_reachable_through_the_transport(server):
    # 4,000,000 ASCII characters fit the endpoint's 4 MiB body limit: the call reaches the tool
    # (which says the file is missing); one more character is the limits pack's error, not an HTTP 413.
    async with connect(server) as session:
        reached = await call_error(session, "append_text", path="missing.txt", text="x" * 4_000_000)
        assert "missing.txt" in reached and "characters" not in reached
        refused = await session.call_tool("append_text", {"path": "missing.txt", "text": "x" * 4_000_001})
    assert refused.structured_content["code"] == "limit_exceeded"
    assert "up to 4,000,000 characters" in refused.content[0].text
