"""Running cells and code in the notebook's kernel, with outputs streamed into the shared document."""

from __future__ import annotations

import asyncio


from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, write_notebook


def outputs_of(collaborator, index: int = 0) -> list[dict]:
    return cells_of(collaborator)[index].get("outputs") or []


def stream_text(collaborator, index: int = 0) -> str:
    return "".join(o.get("text", "") for o in outputs_of(collaborator, index) if o["output_type"] == "stream")


async def test_outputs_stream_into_the_cell_while_it_runs(collab_server):
    code = (
        "import time\nprint('first', flush=True)\ntime.sleep(0.6)\nprint('second', flush=True)\ntime.sleep(0.6)\n1 + 1"
    )
    path = write_notebook(collab_server.root, "run.ipynb", [{"source": code}, {"source": "x = 41"}])
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        seen: list[tuple[str, str]] = []

        async def watch() -> None:
            while True:
                state = (cells_of(ada)[0].get("execution_state"), stream_text(ada))
                if not seen or seen[-1] != state:
                    seen.append(state)
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch())
        try:
            result = await mcp.call_tool(
                "execute_notebook_cell",
                {"path": path, "cell_id": cell_id, "timeout": 60},
                progress_callback=on_progress,
            )
            await ada.wait_for(
                lambda: (
                    cells_of(ada)[0].get("execution_state") == "idle"
                    and outputs_of(ada)[-1]["output_type"] == "execute_result"
                ),
                what="the end of the run",
            )
        finally:
            watcher.cancel()
        assert not result.is_error, result.content
        data = result.structured_content
        assert data["status"] == "ok" and data["execution_count"] >= 1
        assert [o["output_type"] for o in data["outputs"]] == ["stream", "execute_result"]
        assert data["outputs"][0]["text"] == "first\nsecond\n" and data["outputs"][1]["text"] == "2"
        # The collaborator saw 'first' alone while the cell was running, then 'second' appended.
        assert ("running", "first\n") in seen, seen
        assert seen.index(("running", "first\n")) < seen.index(("running", "first\nsecond\n"))
        cell = cells_of(ada)[0]
        assert cell["execution_count"] == data["execution_count"]
        assert [o["output_type"] for o in cell["outputs"]] == ["stream", "execute_result"]
        values = [v for v, _ in progress]
        assert len(values) >= 2 and values == sorted(set(values))  # one per output, always increasing
        assert all(m and "output" in m for _, m in progress)

        # The kernel is shared: execute_code sees the notebook's variables and adds no cell.
        await call(mcp, "execute_notebook_cell", path=path, cell_id=cells_of(ada)[1]["id"])
        value = await call(mcp, "execute_code", path=path, code="x + 1")
        assert value["outputs"][0]["text"] == "42" and value["cell_id"] is None
        assert len(cells_of(ada)) == 2

        kernels = await call(mcp, "list_kernels")
        running = [k for k in kernels["kernels"] if k["kernel_id"] == data["kernel_id"]]
        assert running and path in running[0]["notebooks"]
        assert "python3" in [s["name"] for s in kernels["kernel_specs"]]


async def test_a_long_printing_run_streams_into_the_cell_as_it_goes(collab_server):
    # Output writes are queued and written whenever the run waits for the kernel (or every
    # FLUSH_INTERVAL): a run that prints for over a second must show lines before it ends.
    code = "import time\nend = time.time() + 1.5\nn = 0\nwhile time.time() < end:\n    n += 1\n    print(n)\n'done'"
    path = write_notebook(collab_server.root, "chatty.ipynb", [{"source": code}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        run = asyncio.create_task(call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id, timeout=60))
        await ada.wait_for(
            lambda: cells_of(ada)[0].get("execution_state") == "running" and stream_text(ada).startswith("1\n"),
            what="printed lines while the cell runs",
        )
        assert not run.done()
        data = await run
        assert data["status"] == "ok"
        await ada.wait_for(lambda: cells_of(ada)[0].get("execution_state") == "idle", what="the end of the run")
        lines = stream_text(ada).split()
        assert lines == [str(i) for i in range(1, len(lines) + 1)]  # every line, once, in order


async def test_error_returns_the_traceback_without_ansi(collab_server):
    path = write_notebook(
        collab_server.root, "error.ipynb", [{"source": "def f():\n    raise ValueError('bad é')\nf()"}]
    )
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        data = await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id)
        assert data["status"] == "error" and "ValueError" in data["message"]
        error = data["outputs"][0]
        assert error["ename"] == "ValueError" and error["evalue"] == "bad é"
        assert "\x1b[" not in error["text"] and "raise ValueError" in error["text"]
        await ada.wait_for(lambda: outputs_of(ada) and outputs_of(ada)[0]["output_type"] == "error", what="the error")


async def test_timeout_interrupts_the_kernel_and_says_so(collab_server):
    code = "import time\nprint('started', flush=True)\ntime.sleep(30)\nprint('never')"
    path = write_notebook(collab_server.root, "slow.ipynb", [{"source": code}, {"source": "'alive'"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        ids = [c["id"] for c in cells_of(ada)]
        data = await call(mcp, "execute_notebook_cell", path=path, cell_id=ids[0], timeout=1.5)
        assert data["status"] == "timeout" and "interrupted" in data["message"]
        assert data["duration_s"] < 10
        assert data["outputs"][0]["text"] == "started\n"
        assert any(o.get("ename") == "KeyboardInterrupt" for o in data["outputs"])
        await ada.wait_for(lambda: cells_of(ada)[0].get("execution_state") == "idle", what="idle after the timeout")
        # The kernel survived the interrupt.
        after = await call(mcp, "execute_notebook_cell", path=path, cell_id=ids[1])
        assert after["status"] == "ok" and after["outputs"][0]["text"] == "'alive'"


async def test_execution_bad_input_changes_nothing(collab_server):
    path = write_notebook(
        collab_server.root, "runbad.ipynb", [{"cell_type": "markdown", "source": "# md"}, {"source": "   "}]
    )
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        before = cells_of(ada)
        md, empty = before[0]["id"], before[1]["id"]
        cases = [
            ("execute_notebook_cell", {"path": path, "cell_id": md}, "only code cells run"),
            ("execute_notebook_cell", {"path": path, "cell_id": empty}, "empty"),
            ("execute_notebook_cell", {"path": path, "cell_id": "nope"}, "No cell"),
            ("execute_notebook_cell", {"path": path, "cell_id": md, "timeout": 0}, "timeout must be"),
            ("execute_notebook_cell", {"path": path, "cell_id": md, "timeout": 100000}, "at most"),
            ("execute_code", {"path": path, "code": "  "}, "empty"),
            ("execute_code", {"path": path, "code": "1", "kernel_name": "cobol"}, "Unknown kernel"),
            ("execute_code", {"path": "missing.ipynb", "code": "1"}, "No notebook"),
            ("interrupt_kernel", {"path": path}, "has no kernel"),
            ("restart_kernel", {"path": path}, "has no kernel"),
        ]
        for tool, args, expected in cases:
            err = await call_error(mcp, tool, **args)
            assert expected in err, (tool, args, err)
        await asyncio.sleep(0.2)
        assert cells_of(ada) == before


async def test_restart_and_interrupt(collab_server):
    path = write_notebook(collab_server.root, "restart.ipynb", [{"source": "y = 5"}])
    async with connect(collab_server) as mcp:
        session = await call(mcp, "create_notebook_session", path=path)
        assert session["kernel_id"] and session["kernel_started"] is True
        again = await call(mcp, "create_notebook_session", path=path)
        assert again["kernel_id"] == session["kernel_id"] and again["kernel_started"] is False
        await call(mcp, "execute_code", path=path, code="y = 5")
        assert (await call(mcp, "interrupt_kernel", path=path))["kernel_id"] == session["kernel_id"]
        restarted = await call(mcp, "restart_kernel", path=path)
        assert "restarted" in restarted["message"]
        gone = await call(mcp, "execute_code", path=path, code="y")
        assert gone["status"] == "error" and gone["outputs"][0]["ename"] == "NameError"


async def test_timeout_never_interrupts_someone_elses_run(collab_server):
    """A person's long run holds the kernel: the agent's timed-out run stays queued instead of interrupting it."""
    import json
    import uuid

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    path = write_notebook(collab_server.root, "shared_kernel.ipynb", [{"source": "print('agent ran')"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        session = await call(mcp, "create_notebook_session", path=path)
        # While the person's code runs the kernel answers nothing: a first contact now would time out.
        assert (await call(mcp, "execute_code", path=path, code="0"))["status"] == "ok"
        url = f"ws://{collab_server.ip}:{collab_server.port}/api/kernels/{session['kernel_id']}/channels"
        ws = await websocket_connect(HTTPRequest(url, headers=collab_server.headers))
        msg_id = uuid.uuid4().hex
        ws.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "session": uuid.uuid4().hex,
                        "username": "ada",
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": "import time\ntime.sleep(4)\nprint('human done')",
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        while True:  # wait until the person's code is running
            message = json.loads(await asyncio.wait_for(ws.read_message(), 30))
            if message["msg_type"] == "execute_input" and message["parent_header"].get("msg_id") == msg_id:
                break
        cell_id = cells_of(ada)[0]["id"]
        data = await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id, timeout=1)
        assert data["status"] == "timeout" and "was not interrupted" in data["message"], json.dumps(data)
        reply = None
        while reply is None:
            message = json.loads(await ws.read_message())
            if message["msg_type"] == "execute_reply" and message["parent_header"].get("msg_id") == msg_id:
                reply = message["content"]
        ws.close()
        assert reply["status"] == "ok"  # the person's run finished normally
        await ada.wait_for(
            lambda: stream_text(ada) == "agent ran\n" and cells_of(ada)[0].get("execution_state") == "idle",
            timeout=15,
            what="the queued run's output in the cell",
        )
        after = await call(mcp, "execute_code", path=path, code="1")  # the kernel lock was released
        assert after["status"] == "ok"


async def test_the_notebooks_own_kernelspec_is_used_when_installed(collab_server):
    import json

    for name, kernel in (("named.ipynb", "python3"), ("foreign.ipynb", "julia-1.9")):
        write_notebook(collab_server.root, name, [{"source": "1"}])
        nb = json.loads((collab_server.root / name).read_text())
        nb["metadata"]["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "?"}
        (collab_server.root / name).write_text(json.dumps(nb))
    async with connect(collab_server) as mcp:
        named = await call(mcp, "create_notebook_session", path="named.ipynb")
        assert named["kernel_name"] == "python3"
        foreign = await call(mcp, "execute_code", path="foreign.ipynb", code="2")  # not installed: the default
        assert foreign["status"] == "ok" and foreign["outputs"][0]["text"] == "2"


async def test_an_unknown_kernel_name_creates_no_notebook(collab_server):
    async with connect(collab_server) as mcp:
        error = await call_error(mcp, "create_notebook_session", path="julia.ipynb", create=True, kernel_name="julia-1.9")
    assert "Unknown kernel 'julia-1.9'. Installed kernels: python3" in error
    assert not (collab_server.root / "julia.ipynb").exists()


async def test_display_updates_replace_the_displayed_output(collab_server):
    code = (
        "from IPython.display import display\nimport time\n"
        "handle = display('first', display_id=True)\ntime.sleep(0.3)\nhandle.update('second')\nprint('done')"
    )
    path = write_notebook(collab_server.root, "display.ipynb", [{"source": code}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        data = await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id)
        assert [(o["output_type"], o["text"]) for o in data["outputs"]] == [
            ("display_data", "'second'"),
            ("stream", "done\n"),
        ]
        await ada.wait_for(lambda: cells_of(ada)[0].get("execution_state") == "idle", what="the end of the run")
        outputs = cells_of(ada)[0]["outputs"]
        assert outputs[0]["data"]["text/plain"] == "'second'" and len(outputs) == 2
