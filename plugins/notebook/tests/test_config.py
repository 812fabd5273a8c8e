"""The output budget and kernel policy set through c.NotebookPack, and images as MCP image content."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, write_notebook

PNG = """
import os, struct, zlib
from IPython.display import Image, display
def png(w, h, noisy=False):
    rows = b"".join(b"\\x00" + (os.urandom(3 * w) if noisy else b"\\xff\\x00\\x00" * w) for _ in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\\x89PNG\\r\\n\\x1a\\n" + body
"""


@pytest.fixture(scope="module")
def tight_server(collab_server_factory):
    return collab_server_factory(
        "--Limits.rate_per_second=0",
        "--NotebookPack.max_output_chars=300",
        "--NotebookPack.max_image_bytes=3000",
        "--NotebookPack.execution_timeout=10",
        "--NotebookPack.max_execution_timeout=20",
        "--NotebookPack.auto_restart=True",
    )


async def test_configured_budget_cuts_text_and_caps_images(tight_server):
    code = PNG + "print('x' * 5000)\ndisplay(Image(data=png(4, 4)))\ndisplay(Image(data=png(60, 60, noisy=True)))"
    path = write_notebook(tight_server.root, "images.ipynb", [{"source": code}])
    async with connect(tight_server) as mcp, join_room(tight_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        result = await mcp.call_tool("execute_notebook_cell", {"path": path, "cell_id": cell_id})
        assert not result.is_error, result.content
        data = result.structured_content
        stream, small, big = data["outputs"]
        assert len(stream["text"]) < 400 and "characters cut" in stream["note"]
        images = [c for c in result.content if c.type == "image"]
        assert len(images) == 1 and images[0].mime_type == "image/png"
        assert "returned as image content #1" in small["note"]
        assert "larger than the 3000-byte cap" in big["note"]
        # The document keeps everything whole.
        await ada.wait_for(lambda: len(cells_of(ada)[0]["outputs"]) == 3, what="all outputs in the document")
        assert cells_of(ada)[0]["outputs"][0]["text"] == "x" * 5000 + "\n"

        read = await mcp.call_tool("read_notebook_cell", {"path": path, "cell_id": cell_id})
        assert [c.type for c in read.content].count("image") == 1

        err = await call_error(mcp, "execute_code", path=path, code="1", timeout=30)
        assert "at most 20 seconds" in err


async def kill_kernel(mcp, path: str) -> str:
    """Kill the notebook's kernel process from outside (as the OOM killer would); wait until it is dead."""
    pid = int((await call(mcp, "execute_code", path=path, code="import os; os.getpid()"))["outputs"][0]["text"])
    os.kill(pid, signal.SIGKILL)
    for _ in range(600):  # dead: a zombie until the server reaps it, then gone
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except FileNotFoundError:
            return "gone"
        if state == "Z":
            return "zombie"
        await asyncio.sleep(0.05)
    raise AssertionError(f"kernel process {pid} still runs 30 s after SIGKILL (state {state})")


async def test_a_kernel_killed_between_two_calls_is_healed_and_the_result_says_so(collab_server):
    path = write_notebook(collab_server.root, "heal.ipynb", [{"source": "print('v' in globals())"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        await call(mcp, "execute_code", path=path, code="v = 1")
        # At once: the process is gone before the server's restarter (3 s polls) noticed.
        how = await kill_kernel(mcp, path)
        healed = await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id)
        assert healed["status"] == "ok" and healed["kernel_restarted"] is True, (how, healed["message"])
        assert "restarted" in healed["message"] and "variables are gone" in healed["message"]
        assert healed["outputs"][0]["text"] == "False\n"  # a fresh kernel: v is gone
        again = await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id)
        assert again["kernel_restarted"] is False and "restarted" not in again["message"]

        # Later: the server's restarter replaced the process already; the next call still says so.
        await call(mcp, "execute_code", path=path, code="v = 1")
        await kill_kernel(mcp, path)
        await asyncio.sleep(8)  # the restarter notices within its 3 s heartbeat (margin for load)
        healed = await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id)
        assert healed["status"] == "ok" and healed["kernel_restarted"] is True, healed
        assert "variables are gone" in healed["message"] and healed["outputs"][0]["text"] == "False\n"
        await ada.wait_for(lambda: cells_of(ada)[0].get("execution_count") is not None, what="the count")

        # A kernel that dies during a run returns at once with that status; the next call runs.
        died = await call(mcp, "execute_code", path=path, code="import os; os._exit(1)", timeout=30)
        assert died["status"] == "aborted" and "died" in died["message"]
        assert (await call(mcp, "execute_code", path=path, code="1"))["status"] == "ok"


async def test_a_kernel_that_stops_answering_while_idle_is_replaced(collab_server_factory):
    server = collab_server_factory("--Limits.rate_per_second=0", "--NotebookPack.kernel_info_timeout=2")
    path = write_notebook(server.root, "frozen.ipynb", [{"source": "v = 1"}])
    async with connect(server) as mcp:
        pid = int((await call(mcp, "execute_code", path=path, code="import os; os.getpid()"))["outputs"][0]["text"])
        os.kill(pid, signal.SIGSTOP)  # alive to the server (its process is there), silent to every request
        try:
            healed = await call(mcp, "execute_code", path=path, code="'v' in globals()")
        finally:
            with contextlib.suppress(ProcessLookupError):  # never leave a stopped process behind
                os.kill(pid, signal.SIGKILL)
        assert healed["status"] == "ok" and healed["kernel_restarted"] is True
        assert "stopped answering" in healed["message"] and healed["outputs"][0]["text"] == "False"


async def test_with_healing_off_a_dead_kernel_is_refused_naming_restart_kernel(collab_server_factory):
    server = collab_server_factory("--Limits.rate_per_second=0", "--NotebookPack.heal_dead_kernels=False")
    path = write_notebook(server.root, "die.ipynb", [{"source": "v = 1"}])
    async with connect(server) as mcp, join_room(server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id)
        count = cells_of(ada)[0]["execution_count"]
        await kill_kernel(mcp, path)
        err = await call_error(mcp, "execute_notebook_cell", path=path, cell_id=cell_id)
        assert "died" in err and "restart_kernel" in err and "every variable is gone" in err
        assert cells_of(ada)[0]["execution_count"] == count  # refused: the cell was not touched
        restarted = await call(mcp, "restart_kernel", path=path)
        assert restarted["execution_state"] != "dead"
        fresh = await call(mcp, "execute_code", path=path, code="'v' in globals()")
        assert fresh["outputs"][0]["text"] == "False" and fresh["kernel_restarted"] is False


async def test_auto_restart_is_the_old_name_of_heal_dead_kernels(tight_server):
    path = write_notebook(tight_server.root, "die.ipynb", [{"source": "v = 1"}])
    async with connect(tight_server) as mcp:
        first = await call(mcp, "execute_code", path=path, code="w = 1")
        assert first["status"] == "ok"
        died = await call(mcp, "execute_code", path=path, code="import os; os._exit(1)", timeout=15)
        assert died["status"] == "aborted"
        after = await call(mcp, "execute_code", path=path, code="'w' in globals()")
        assert after["status"] == "ok" and after["outputs"][0]["text"] == "False"
    assert "auto_restart is deprecated" in tight_server.log_text()
