"""RemoteKernels: a remote server's kernel sessions over REST, execution over the kernel websocket,
a dropped socket reopened (not a death), a dead kernel heard as one."""

from __future__ import annotations

import asyncio
import json
import pytest

from collab_mcp_core.connect import Target
from collab_mcp_core.errors import ToolError
from collab_mcp_core.remote_kernels import RemoteKernels


@pytest.fixture(scope="module")
def plain_server(collab_server_factory):
    return collab_server_factory(collab_mcp=False)


async def run(link, code: str) -> list[dict]:
    """Execute ``code`` and collect its iopub messages until the kernel is idle again."""
    msg_id = link.execute(code)
    seen = []
    while True:
        message = await link.get_iopub_msg(timeout=30)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        seen.append(message)
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return seen


def results(messages: list[dict]) -> list[str]:
    return [m["content"]["data"]["text/plain"] for m in messages if m["msg_type"] == "execute_result"]


async def test_sessions_execution_drops_and_restarts(plain_server):
    (plain_server.root / "k.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    target = Target(plain_server.url, plain_server.token)
    async with target.http_client() as http:
        kernels = RemoteKernels(target, http)
        assert "python3" in await kernels.kernel_specs()
        session = await kernels.start_session("k.ipynb", await kernels.default_kernel_name())
        kernel_id = session["kernel"]["id"]
        assert [s["path"] for s in await kernels.list_sessions()] == ["k.ipynb"]
        assert kernels.exists(kernel_id) and await kernels.is_alive(kernel_id)
        deaths: list[str] = []
        kernels.on_death(kernel_id, lambda: deaths.append(kernel_id))
        link = await kernels.connect(kernel_id, 30)
        try:
            assert results(await run(link, "a = 20; a + 1")) == ["21"]

            dropped = link.socket
            dropped._ws.close()  # as a network failure would
            for _ in range(100):
                if link.socket is not dropped:  # reopened
                    break
                await asyncio.sleep(0.1)
            assert results(await run(link, "a * 2")) == ["40"]  # the same kernel: a survived
            assert deaths == []  # a dropped socket is not a dead kernel

            link.execute("import os; os._exit(1)")  # the kernel process dies; the server's restarter says so
            for _ in range(200):
                if deaths:
                    break
                await asyncio.sleep(0.1)
            assert deaths == [kernel_id]
        finally:
            kernels.disconnect(link)
        error = None
        try:
            await kernels.interrupt("no-such-kernel")
        except ToolError as err:
            error = err.message
        assert error and "HTTP 404" in error
