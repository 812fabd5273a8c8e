"""KernelWebsocket against a Jupyter server's own kernel websocket (as the remote backend uses it)."""

from __future__ import annotations

import json
import struct
import urllib.request
from queue import Empty

import pytest

from collab_mcp_core.kernel_websocket import KernelWebsocket, KernelWebsocketError, decode


def start_kernel(server) -> str:
    request = urllib.request.Request(server.url + "api/kernels", data=b'{"name": "python3"}', method="POST",
                                     headers={**server.headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["id"]


async def test_runs_code_and_hears_of_the_kernel_death(collab_server):
    kernel_id = start_kernel(collab_server)
    url = f"ws://127.0.0.1:{collab_server.port}/api/kernels/{kernel_id}/channels"
    with pytest.raises(KernelWebsocketError, match="HTTP 403|HTTP 401"):
        await KernelWebsocket.open(url, {}, timeout=10)  # no token

    kernel = await KernelWebsocket.open(url, collab_server.headers, timeout=10)
    deaths: list[bool] = []
    kernel.on_death(deaths.append)
    try:
        await kernel.wait_for_ready(30)
        msg_id = kernel.execute("print('hello')")
        seen = []
        while not (seen and seen[-1] == ("status", "idle")):
            msg = await kernel.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id:
                seen.append((msg["msg_type"], msg["content"].get("execution_state") or msg["content"].get("text")))
        assert ("stream", "hello\n") in seen
        reply = await kernel.get_shell_msg(timeout=30)
        assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
        with pytest.raises(Empty):
            await kernel.get_shell_msg(timeout=0)

        kernel.execute("import os; os._exit(1)")
        while not deaths:  # the server's restarter announces it; the test's own timeout bounds the wait
            try:
                await kernel.get_iopub_msg(timeout=1)
            except Empty:
                pass
    finally:
        kernel.close()
    assert deaths == [True]  # died, and the server restarts it


def test_decodes_the_binary_form_with_buffers():
    part = json.dumps({"header": {"msg_type": "comm_msg", "msg_id": "m1"}, "parent_header": {}, "channel": "iopub",
                       "content": {}, "metadata": {}}).encode()
    buffers = [b"\x00\x01", b"abc"]
    offsets = [4 * 4]
    for piece in (part, buffers[0]):
        offsets.append(offsets[-1] + len(piece))
    raw = struct.pack("!4I", 3, *offsets) + part + b"".join(buffers)
    message = decode(raw)
    assert message["msg_type"] == "comm_msg" and message["msg_id"] == "m1"
    assert message["buffers"] == buffers
