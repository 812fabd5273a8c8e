"""Notebooks as MCP resources with change notifications; events with the author; rooms closed and reopened."""

from __future__ import annotations

import asyncio
import json

import mcp_types as types
import pytest

from collab_mcp_core.testing import call, connect, join_room
from collab_mcp_notebook.testing import cells_of, disk_cells, write_notebook


@pytest.fixture(scope="module")
def events_log(tmp_path_factory):
    return tmp_path_factory.mktemp("events") / "events.jsonl"


@pytest.fixture(scope="module")
def server(collab_server_factory, events_log):
    config = f"import logging\nc.EventLogger.handlers = [logging.FileHandler({str(events_log)!r})]\n"
    return collab_server_factory(
        "--Limits.rate_per_second=0",
        "--NotebookPack.resource_debounce=0.3",
        "--CollabMCP.room_idle_timeout=1",
        config_py=config,
    )


def events(log_path, kind: str, path: str) -> list[dict]:
    if not log_path.exists():
        return []
    found = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    return [e for e in found if e.get("__schema__", "").endswith("/" + kind) and e.get("path") == path]


async def test_resources_list_read_and_notify_subscribers(server):
    path = write_notebook(server.root, "res/watched.ipynb", [{"source": "a = 1"}])
    write_notebook(server.root, "res/other.ipynb")
    updates: list[str] = []

    async def on_message(message) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    uri = f"notebook://{path}"
    async with connect(server, message_handler=on_message) as mcp:
        listed = await mcp.list_resources()
        uris = {str(r.uri) for r in listed.resources}
        assert {uri, "notebook://res/other.ipynb"} <= uris
        templates = await mcp.list_resource_templates()
        assert "notebook://{path}" in [t.uri_template for t in templates.resource_templates]

        read = await mcp.read_resource(uri)
        content = json.loads(read.contents[0].text)
        assert [c["source"] for c in content["cells"]] == ["a = 1"] and content["cells"][0]["cell_id"]

        await mcp.subscribe_resource(uri)
        async with join_room(server, path) as ada:
            text = ada.notebook.ycells[0]["source"]
            for ch in "  # typed by a person":
                text += ch
                await asyncio.sleep(0.01)
            await ada.wait_for(lambda: updates, timeout=10, what="a resources/updated notification")
            await asyncio.sleep(1.0)
            assert set(updates) == {uri}
            assert len(updates) <= 5, updates  # debounced: a burst of 21 keystrokes is not 21 notifications

            updates.clear()
            await call(mcp, "insert_notebook_cell", path=path, content="b = 2")
            await ada.wait_for(lambda: updates, timeout=10, what="a notification after the agent's edit")
        read = await mcp.read_resource(uri)
        assert [c["source"] for c in json.loads(read.contents[0].text)["cells"]] == [
            "a = 1  # typed by a person",
            "b = 2",
        ]


async def test_every_change_emits_an_event_with_its_author(server, events_log):
    path = write_notebook(server.root, "events.ipynb", [{"source": "1 + 1"}])
    async with connect(server) as mcp:
        inserted = await call(mcp, "insert_notebook_cell", path=path, content="x = 1", index=0)
        cell_id = inserted["cell_id"]
        await call(mcp, "update_notebook_cell", path=path, cell_id=cell_id, content="x = 2")
        await call(mcp, "move_notebook_cell", path=path, cell_id=cell_id, index=1)
        await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id)
        await call(mcp, "delete_notebook_cell", path=path, cell_id=cell_id)
    await asyncio.sleep(0.5)
    kinds = ["inserted", "updated", "moved", "executed", "deleted"]
    for kind in kinds:
        found = events(events_log, f"notebook_cell_{kind}", path)
        assert found, f"no notebook_cell_{kind} event in {events_log.read_text()[-2000:]}"
        assert found[0]["cell_id"] == cell_id and found[0]["actor"]
    executed = events(events_log, "notebook_cell_executed", path)[0]
    assert executed["status"] == "ok" and executed["execution_count"] >= 1
    assert events(events_log, "notebook_cell_moved", path)[0]["from_index"] == 0


async def test_room_closed_when_idle_then_reopened_duplicates_nothing(server):
    path = write_notebook(server.root, "reopen.ipynb", [{"source": "one"}])
    async with connect(server) as mcp:
        first = await call(mcp, "insert_notebook_cell", path=path, content="two")
        await call(mcp, "edit_notebook_cell", path=path, cell_id=first["cell_id"], old="two", new="two é😀")
        room_closed = False
        for _ in range(100):  # the host closes rooms agents left idle (room_idle_timeout=1 here)
            listed = await call(mcp, "list_notebooks")
            if not next(n for n in listed["notebooks"] if n["path"] == path)["room_open"]:
                room_closed = True
                break
            await asyncio.sleep(0.1)
        assert room_closed, "the idle room was not closed"
        assert ["".join(c["source"]) for c in disk_cells(server.root, path)] == ["one", "two é😀"]

        view = await call(mcp, "get_notebook", path=path)  # reopens the room from disk
        assert [c["source"] for c in view["cells"]] == ["one", "two é😀"]
        assert view["cells"][1]["cell_id"] == first["cell_id"]
        async with join_room(server, path) as ada:
            await call(mcp, "insert_notebook_cell", path=path, content="three")
            await ada.wait_for(lambda: len(cells_of(ada)) == 3, what="the third cell")
            ids = [c["id"] for c in cells_of(ada)]
            assert len(ids) == len(set(ids)) and [str(c["source"]) for c in ada.notebook.ycells] == [
                "one",
                "two é😀",
                "three",
            ]
    assert "Out-of-band" not in server.log_text()


async def test_outputs_survive_the_room_closing_while_the_cell_runs(server):
    code = "import time\nprint('before', flush=True)\ntime.sleep(6)\nprint('after', flush=True)"
    path = write_notebook(server.root, "long_run.ipynb", [{"source": code}])
    async with connect(server) as mcp:
        view = await call(mcp, "get_notebook", path=path)
        cell_id, room_id = view["cells"][0]["cell_id"], view["collaboration"]["room_id"]
        notes: list[str] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            notes.append(message or "")

        answer = await mcp.call_tool(
            "execute_notebook_cell", {"path": path, "cell_id": cell_id}, progress_callback=on_progress
        )
        result = answer.structured_content
        assert result["status"] == "ok" and result["outputs"][0]["text"] == "before\nafter\n"
        assert any(n.startswith("still running after") for n in notes), notes  # heartbeat during the silence
        assert f"closed idle room {room_id}" in server.log_text()  # the room really closed during the sleep
        view = await call(mcp, "read_notebook_cell", path=path, cell_id=cell_id)
        assert view["outputs"][0]["text"] == "before\nafter\n" and len(view["outputs"]) == 1
        await call(mcp, "save_notebook", path=path)
        outputs = disk_cells(server.root, path)[0]["outputs"]
        assert ["".join(o["text"]) for o in outputs] == ["before\nafter\n"]


async def test_an_edit_just_before_the_server_stops_is_saved(collab_server_factory):
    # jupyter-server-ydoc stops rooms without saving; the pack saves open notebooks on the way out.
    doomed = collab_server_factory("--Limits.rate_per_second=0", "--YDocExtension.document_save_delay=30")
    path = write_notebook(doomed.root, "last_words.ipynb", [{"source": "one"}])
    async with connect(doomed) as mcp:
        inserted = await call(mcp, "insert_notebook_cell", path=path, content="two é😀")
    doomed.stop()
    on_disk = disk_cells(doomed.root, path)
    assert ["".join(c["source"]) for c in on_disk] == ["one", "two é😀"]
    assert on_disk[1]["id"] == inserted["cell_id"]
