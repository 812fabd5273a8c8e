"""RemoteKernels: a remote server's kernel sessions over REST, execution over the kernel websocket,
a dropped socket reopened (not a death), a dead kernel heard as one."""

from __future__ import annotations

import asyncio
import json
import os
import signal

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
        deaths: list[tuple[str, bool]] = []
        kernels.on_death(kernel_id, lambda restarting: deaths.append((kernel_id, restarting)))
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
            assert deaths == [(kernel_id, True)]  # the server restarts it
        finally:
            kernels.disconnect(link)
        error = None
        try:
            await kernels.interrupt("no-such-kernel")
        except ToolError as err:
            error = err.message
        assert error and "HTTP 404" in error


class Heard:
    """The notifications/message (MCP log messages) a session received."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def __call__(self, params) -> None:
        self.messages.append({"level": params.level, "logger": params.logger, **params.data})

    def of(self, event: str) -> list[dict]:
        return [m for m in self.messages if m.get("event") == event]


async def test_a_kernel_killed_mid_run_in_remote_mode_fails_the_run_and_is_told(plain_server):
    """As in extension mode: the waiting run ends at once as aborted, and a warning says the kernel died."""
    from collab_mcp_core.testing import call, connect_stdio, join_room

    (plain_server.root / "dies.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    heard = Heard()
    async with connect_stdio(plain_server, "--mode", "remote", logging_callback=heard) as mcp, \
            join_room(plain_server, "dies.ipynb") as ada:
        await mcp.set_logging_level("warning")
        ran = await call(mcp, "execute_code", path="dies.ipynb", code="import os; print(os.getpid())")
        pid = int(ran["outputs"][0]["text"])
        # wait=120: the call waits for the run's end (without it, it answers "running" after the default 30 s
        # execution_wait, which a loaded machine can spend before the death is heard).
        run = asyncio.create_task(call(mcp, "insert_notebook_cell", path="dies.ipynb", execute=True, timeout=120,
                                       wait=120, content="import time\nprint('started', flush=True)\ntime.sleep(120)"))
        # In the outputs: the cell's source says 'started' too, and a kill before the run began (the insert
        # already seen) could be heard before the execution is sent; the call then ran on the restarted kernel.
        await ada.wait_for(lambda: any("started" in json.dumps(c.get("outputs", [])) for c in ada.notebook.get()["cells"]),
                           timeout=30, what="the run's first output")
        os.kill(pid, signal.SIGKILL)
        died = await asyncio.wait_for(run, 60)  # far less than the run's own 120 s
        assert died["execution"]["status"] == "aborted" and "died" in died["execution"]["message"], died
        for _ in range(300):
            if heard.of("kernel_died"):
                break
            await asyncio.sleep(0.1)
        [message] = heard.of("kernel_died")
        assert message["level"] == "warning" and message["path"] == "dies.ipynb" and message["restarting"] is True
        assert message["logger"] == "collab-mcp" and "died" in message["message"]
        # No next run is timed here: when jupyter_server 2.21 still records the restarted kernel as busy (it was
        # killed mid-run), a new kernel websocket gets no answer until the server's kernel_info_timeout (60 s)
        # passes, since its connect skips nudging a "busy" kernel; the README's mode table says so.
