"""Edit and run in one call; runs that outlive the call (status running, get_execution)."""

from __future__ import annotations

import asyncio

from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, sources, write_notebook


def stream_text(cell: dict) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs") or [] if o["output_type"] == "stream")


async def test_insert_and_update_with_execute_return_outputs_the_collaborator_sees(collab_server):
    path = write_notebook(collab_server.root, "edit_run.ipynb", [{"source": "base = 40"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        await call(mcp, "execute_notebook_cell", path=path, cell_id=cells_of(ada)[0]["id"])
        inserted = await call(mcp, "insert_notebook_cell", path=path, content="print('hi')\nbase + 2", execute=True)
        run = inserted["execution"]
        assert run["status"] == "ok" and run["cell_id"] == inserted["cell_id"]
        assert [(o["output_type"], o["text"]) for o in run["outputs"]] == [("stream", "hi\n"), ("execute_result", "42")]
        await ada.wait_for(
            lambda: len(cells_of(ada)) == 2 and len(cells_of(ada)[1].get("outputs") or []) == 2,
            what="the inserted cell with its outputs",
        )
        cell = cells_of(ada)[1]
        assert cell["source"] == "print('hi')\nbase + 2" and cell["execution_count"] == run["execution_count"]
        assert cell["outputs"][1]["data"]["text/plain"] == "42"

        updated = await call(
            mcp, "update_notebook_cell", path=path, cell_id=inserted["cell_id"], content="base * 2", execute=True
        )
        assert updated["execution"]["outputs"][0]["text"] == "80"
        await ada.wait_for(
            lambda: sources(ada)[1] == "base * 2"
            and [o.get("data", {}).get("text/plain") for o in cells_of(ada)[1]["outputs"]] == ["80"],
            what="the updated source and its new output",
        )
        # Without execute the result carries no run.
        plain = await call(mcp, "insert_notebook_cell", path=path, content="1")
        assert "execution" not in plain


async def test_edit_with_execute_refuses_bad_input_before_changing_anything(collab_server):
    path = write_notebook(collab_server.root, "edit_run_bad.ipynb", [{"source": "1"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        before = cells_of(ada)
        cell_id = before[0]["id"]
        cases = [
            ("insert_notebook_cell", {"content": "# t", "cell_type": "markdown", "execute": True}, "only code cells run"),
            ("insert_notebook_cell", {"content": "  ", "execute": True}, "empty"),
            ("insert_notebook_cell", {"content": "2", "execute": True, "timeout": 0}, "timeout must be"),
            ("insert_notebook_cell", {"content": "2", "execute": True, "wait": -1}, "wait must be"),
            ("update_notebook_cell", {"cell_id": cell_id, "content": "2", "execute": True, "timeout": 1e6}, "at most"),
            ("update_notebook_cell", {"cell_id": cell_id, "content": "# t", "cell_type": "raw", "execute": True},
             "only code cells run"),
        ]
        for tool, args, expected in cases:
            err = await call_error(mcp, tool, path=path, **args)
            assert expected in err, (tool, args, err)
        await asyncio.sleep(0.2)
        assert cells_of(ada) == before


async def test_a_run_longer_than_wait_answers_running_then_get_execution_returns_the_rest(collab_server):
    code = (
        "import time\nprint('start', flush=True)\n"
        "for i in range(6):\n    time.sleep(1)\n    print(i, flush=True)\n'finished'"
    )
    path = write_notebook(collab_server.root, "long.ipynb", [{"source": code}])
    progress: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        await call(mcp, "create_notebook_session", path=path)
        assert (await call(mcp, "execute_code", path=path, code="0"))["status"] == "ok"  # the kernel is connected
        first = await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id, timeout=60, wait=1)
        assert first["status"] == "running" and first["execution_id"], first
        assert "get_execution" in first["message"]
        seen_so_far = "".join(o.get("text", "") for o in first["outputs"])
        assert seen_so_far.startswith("start\n") and "finished" not in seen_so_far
        # The run was not interrupted: the collaborator keeps seeing outputs arrive.
        await ada.wait_for(lambda: "2\n" in stream_text(cells_of(ada)[0]), what="more output after the answer")

        result = await mcp.call_tool(
            "get_execution", {"execution_id": first["execution_id"], "wait": 30}, progress_callback=on_progress
        )
        rest = result.structured_content
        assert not result.is_error and rest["status"] == "ok", rest
        assert "execution_id" not in rest  # finished: nothing more to follow
        rest_text = "".join(o.get("text", "") for o in rest["outputs"] if o["output_type"] == "stream")
        assert seen_so_far + rest_text == "start\n0\n1\n2\n3\n4\n5\n"  # each line returned once
        assert rest["outputs"][-1] == {"output_type": "execute_result", "text": "'finished'", "mime_types": ["text/plain"]}
        assert rest["execution_count"] == first["execution_count"] or first["execution_count"] is None
        assert progress, "progress notifications reach the call that waits for the run"
        await ada.wait_for(
            lambda: cells_of(ada)[0].get("execution_state") == "idle"
            and stream_text(cells_of(ada)[0]) == "start\n0\n1\n2\n3\n4\n5\n",
            what="the whole run in the cell",
        )
        # Asking again: the final status, no outputs left to return.
        again = await call(mcp, "get_execution", execution_id=first["execution_id"], wait=0)
        assert again["status"] == "ok" and again["outputs"] == []
        # The run's end reached the event bus, though no call was waiting for it when it began.
        ran = [e for e in collab_server.events("notebook_cell_executed") if e.get("cell_id") == cell_id]
        assert [e["status"] for e in ran] == ["ok"]


async def test_get_execution_refuses_unknown_ids(collab_server):
    async with connect(collab_server) as mcp:
        err = await call_error(mcp, "get_execution", execution_id="nope")
        assert "No execution with id 'nope'" in err and "running executions" in err
        err = await call_error(mcp, "get_execution", execution_id="nope", wait=-1)
        assert "wait" in err


async def test_interrupt_kernel_stops_a_running_execution(collab_server):
    path = write_notebook(collab_server.root, "stop_me.ipynb", [{"source": "import time\ntime.sleep(60)"}])
    async with connect(collab_server) as mcp:
        await call(mcp, "create_notebook_session", path=path)
        nb = await call(mcp, "get_notebook", path=path)
        first = await call(mcp, "execute_notebook_cell", path=path, cell_id=nb["cells"][0]["cell_id"], timeout=120,
                           wait=0.5)
        assert first["status"] == "running"
        await call(mcp, "interrupt_kernel", path=path)
        final = await call(mcp, "get_execution", execution_id=first["execution_id"], wait=30)
        assert final["status"] == "error" and "KeyboardInterrupt" in final["message"], final


async def test_execute_cells_stops_at_the_error_in_the_third_of_five(collab_server):
    sources_ = ["a = 1", "print('two')", "raise ValueError('third fails')", "print('four')", "print('five')"]
    path = write_notebook(collab_server.root, "five.ipynb", [{"source": s} for s in sources_])
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        ids = [c["id"] for c in cells_of(ada)]
        answer = await mcp.call_tool("execute_cells", {"path": path, "all": True}, progress_callback=on_progress)
        data = answer.structured_content
        assert not answer.is_error, answer.content
        assert data["status"] == "error" and data["stopped_at"] == ids[2], data
        assert [c["cell_id"] for c in data["cells"]] == ids[:3]
        assert [c["status"] for c in data["cells"]] == ["ok", "ok", "error"]
        assert data["cells"][1]["outputs"][0]["text"] == "two\n"
        assert data["cells"][2]["outputs"][0]["ename"] == "ValueError"
        assert data["not_run"] == ids[3:] and "Stopped at cell" in data["message"]
        assert progress == sorted(set(progress)) and len(progress) >= 3  # one counter across the cells
        await ada.wait_for(
            lambda: [c.get("execution_count") is not None for c in cells_of(ada)] == [True, True, True, False, False],
            what="three cells run and two untouched",
        )
        cells = cells_of(ada)
        assert cells[2]["outputs"][0]["ename"] == "ValueError" and cells[3]["outputs"] == []

        # Without stop_on_error every cell runs; a range runs only its cells.
        everything = await call(mcp, "execute_cells", path=path, all=True, stop_on_error=False)
        assert [c["status"] for c in everything["cells"]] == ["ok", "ok", "error", "ok", "ok"]
        assert everything["status"] == "error" and everything["stopped_at"] is None
        above = await call(mcp, "execute_cells", path=path, start=0, end=2)
        assert [c["cell_id"] for c in above["cells"]] == ids[:2] and above["status"] == "ok"
        listed = await call(mcp, "execute_cells", path=path, cell_ids=[ids[4], ids[0]])
        assert [c["cell_id"] for c in listed["cells"]] == [ids[4], ids[0]]


async def test_execute_cells_refuses_bad_selections_and_runs_nothing(collab_server):
    path = write_notebook(
        collab_server.root, "select.ipynb", [{"source": "print(1)"}, {"cell_type": "markdown", "source": "# md"}]
    )
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        before = cells_of(ada)
        md = before[1]["id"]
        cases = [
            ({}, "exactly one of"),
            ({"all": True, "start": 0}, "exactly one of"),
            ({"start": 1, "end": 9}, "Cell range 1..9 is out of bounds: the notebook has 2 cells"),
            ({"start": 2, "end": 1}, "out of bounds"),
            ({"start": -1}, "start"),
            ({"cell_ids": []}, "empty"),
            ({"cell_ids": ["nope"]}, "No cell with id 'nope'"),
            ({"cell_ids": [before[0]["id"], md]}, "only code cells run"),
            ({"start": 1, "end": 2}, "no code cell"),
            ({"all": True, "timeout": 0}, "timeout must be"),
            ({"all": True, "wait": -2}, "wait must be"),
        ]
        for args, expected in cases:
            err = await call_error(mcp, "execute_cells", path=path, **args)
            assert expected in err, (args, err)
        await asyncio.sleep(0.2)
        assert cells_of(ada) == before


async def test_execute_cells_answers_running_when_its_wait_is_over(collab_server):
    path = write_notebook(
        collab_server.root, "batch_wait.ipynb",
        [{"source": "print('quick')"}, {"source": "import time\ntime.sleep(8)\n'slow'"}, {"source": "'after'"}],
    )
    async with connect(collab_server) as mcp:
        await call(mcp, "create_notebook_session", path=path)
        assert (await call(mcp, "execute_code", path=path, code="0"))["status"] == "ok"  # the kernel is connected
        data = await call(mcp, "execute_cells", path=path, all=True, timeout=60, wait=3)
        assert [c["status"] for c in data["cells"]] == ["ok", "running"], data
        assert data["status"] == "running" and len(data["not_run"]) == 1
        rest = await call(mcp, "get_execution", execution_id=data["cells"][1]["execution_id"], wait=30)
        assert rest["status"] == "ok" and rest["outputs"][-1]["text"] == "'slow'"
