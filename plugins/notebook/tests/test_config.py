"""The output budget and kernel policy set through c.NotebookPack, and images as MCP image content."""

from __future__ import annotations

import asyncio

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


async def test_dead_kernel_restarts_only_when_allowed(collab_server, tight_server):
    # Default policy: the next execution says the kernel died; restart_kernel brings a fresh one.
    path = write_notebook(collab_server.root, "die.ipynb", [{"source": "v = 1"}])
    async with connect(collab_server) as mcp:
        await call(mcp, "execute_code", path=path, code="v = 1")
        died = await call(mcp, "execute_code", path=path, code="import os; os._exit(1)", timeout=30)
        assert died["status"] == "aborted" and "died" in died["message"]
        assert (await call(mcp, "execute_code", path=path, code="1"))["status"] == "ok"  # reported already
        # Now the kernel dies between two calls (killed from a thread after the run ended).
        kill = "import os, threading, time\nthreading.Thread(target=lambda: (time.sleep(0.2), os._exit(1))).start()"
        assert (await call(mcp, "execute_code", path=path, code=kill))["status"] == "ok"
        await asyncio.sleep(8)  # the server's restarter notices within its 3 s heartbeat (margin for load)
        err = await call_error(mcp, "execute_code", path=path, code="1")
        assert "died since it last ran" in err and "restart_kernel" in err
        restarted = await call(mcp, "restart_kernel", path=path)
        assert restarted["execution_state"] != "dead"
        fresh = await call(mcp, "execute_code", path=path, code="'v' in globals()")
        assert fresh["outputs"][0]["text"] == "False"

    # auto_restart=True: the run goes ahead on the fresh kernel and says what happened.
    path = write_notebook(tight_server.root, "die.ipynb", [{"source": "v = 1"}])
    async with connect(tight_server) as mcp:
        first = await call(mcp, "execute_code", path=path, code="w = 1")
        assert first["status"] == "ok"
        died = await call(mcp, "execute_code", path=path, code="import os; os._exit(1)", timeout=15)
        assert died["status"] == "aborted"
        after = await call(mcp, "execute_code", path=path, code="'w' in globals()")
        assert after["status"] == "ok" and after["outputs"][0]["text"] == "False"
