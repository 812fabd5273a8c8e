"""Kernels on a real Jupyter Enterprise Gateway: every kernel path works as with local kernels.

The gateway runs on 127.0.0.1 with a token and kernel specs only it has; collab-mcp runs with
``--gateway-url``, so the server has no local kernel at all. Times are printed (run with ``-s``)
and asserted only against what a failure would take (the whole sleep or the whole timeout).
"""

from __future__ import annotations

import asyncio
import time

import nbformat
import psutil
import pytest

from collab_mcp_core.gateway_testing import (
    GATEWAY_KERNEL,
    LOCKED_KERNEL,
    GatewayUnavailable,
    server_env,
    start_gateway,
)
from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, write_notebook

NO_RATE_LIMIT = "--Limits.rate_per_second=0"  # the tests call tools in quick bursts




@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    try:
        gateway = start_gateway(tmp_path_factory.mktemp("gateway"))
    except GatewayUnavailable as err:
        pytest.skip(f"jupyter_enterprise_gateway cannot be installed here: {err}")
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def collab_server(collab_server_factory, gateway):
    return collab_server_factory(NO_RATE_LIMIT, *gateway.server_args(), env=server_env())


def write_gateway_notebook(root, path: str, cells: list[str]) -> str:
    """A notebook whose metadata names the gateway-only kernel spec (as JupyterLab writes it)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": GATEWAY_KERNEL, "display_name": "Python (gateway only)", "language": "python"}
    (root / path).write_text(nbformat.writes(nb))
    return path


def stream_text(collaborator, index: int = 0) -> str:
    outputs = cells_of(collaborator)[index].get("outputs") or []
    return "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")


async def kernel_pid(mcp, path: str) -> int:
    result = await call(mcp, "execute_code", path=path, code="import os; os.getpid()")
    return int(result["outputs"][0]["text"])


async def test_a_cell_runs_on_the_gateway_kernel_its_metadata_names(collab_server, gateway):
    code = "import time\nprint('first', flush=True)\ntime.sleep(1)\nprint('second', flush=True)"
    path = write_gateway_notebook(collab_server.root, "gw.ipynb", [code])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        seen: list[str] = []

        async def watch() -> None:
            while True:
                text = stream_text(ada)
                if not seen or seen[-1] != text:
                    seen.append(text)
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch())
        try:
            result = await call(mcp, "execute_notebook_cell", path=path, cell_id=cells_of(ada)[0]["id"], timeout=60)
            await ada.wait_for(lambda: stream_text(ada) == "first\nsecond\n", what="both lines")
        finally:
            watcher.cancel()
        assert result["status"] == "ok", result
        assert result["outputs"][0]["text"] == "first\nsecond\n"
        assert "first\n" in seen and seen.index("first\n") < seen.index("first\nsecond\n"), seen  # streamed
        assert cells_of(ada)[0]["execution_count"] == result["execution_count"]

        # The notebook's metadata chose the kernel only the gateway has, and the gateway runs it.
        gateway_kernels = {k["id"]: k["name"] for k in gateway.api("kernels")}
        assert gateway_kernels.get(result["kernel_id"]) == GATEWAY_KERNEL

        # The kernel's process is the gateway's, not a child of the Jupyter server.
        ancestors = [p.pid for p in psutil.Process(await kernel_pid(mcp, path)).parents()]
        assert collab_server.process.pid not in ancestors
        assert gateway.process.pid in ancestors

        # list_kernels: the gateway's kernel, with its notebook, and the gateway's kernel specs.
        listing = await call(mcp, "list_kernels")
        running = {k["kernel_id"]: k for k in listing["kernels"]}
        assert running[result["kernel_id"]]["kernel_name"] == GATEWAY_KERNEL
        assert path in running[result["kernel_id"]]["notebooks"]
        assert set(running) == set(gateway_kernels)
        assert {GATEWAY_KERNEL, LOCKED_KERNEL} <= {s["name"] for s in listing["kernel_specs"]}


async def until_busy(mcp, kernel_id: str) -> None:
    """Wait until the gateway reports the kernel busy (bounded, polled)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        kernels = (await call(mcp, "list_kernels"))["kernels"]
        if any(k["kernel_id"] == kernel_id and k["execution_state"] == "busy" for k in kernels):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the kernel never became busy")


async def test_execute_code_interrupt_timeout_and_restart(collab_server):
    path = write_notebook(collab_server.root, "gw_run.ipynb", [{"source": "x = 41"}])
    async with connect(collab_server) as mcp:
        opened = await call(mcp, "create_notebook_session", path=path, kernel_name=GATEWAY_KERNEL)
        assert opened["kernel_name"] == GATEWAY_KERNEL
        await call(mcp, "execute_code", path=path, code="x = 41")
        assert (await call(mcp, "execute_code", path=path, code="x + 1"))["outputs"][0]["text"] == "42"

        # interrupt_kernel stops a long sleep.
        run = asyncio.create_task(call(mcp, "execute_code", path=path, code="import time; time.sleep(30)", timeout=60))
        await until_busy(mcp, opened["kernel_id"])  # the sleep has begun
        began = time.monotonic()
        interrupted = await call(mcp, "interrupt_kernel", path=path)
        result = await run
        took = time.monotonic() - began
        print(f"interrupt: the 30 s sleep ended {took:.2f} s after interrupt_kernel")
        assert interrupted["message"] == "Interrupt sent to the kernel."
        assert result["status"] == "error" and "KeyboardInterrupt" in result["message"], result
        assert took < 15  # not the 28 s the sleep had left

        # A timeout interrupts the run and says so, long before the sleep ends.
        began = time.monotonic()
        result = await call(mcp, "execute_code", path=path, code="import time; time.sleep(30)", timeout=3)
        took = time.monotonic() - began
        print(f"timeout=3: answered after {took:.2f} s")
        assert result["status"] == "timeout" and "interrupted" in result["message"], result
        assert 3 <= took < 20
        assert (await call(mcp, "execute_code", path=path, code="x"))["outputs"][0]["text"] == "41"  # variables kept

        # restart_kernel: a fresh kernel (new process, no variables).
        pid = await kernel_pid(mcp, path)
        restarted = await call(mcp, "restart_kernel", path=path)
        assert restarted["kernel_name"] == GATEWAY_KERNEL
        assert await kernel_pid(mcp, path) != pid
        gone = await call(mcp, "execute_code", path=path, code="x")
        assert gone["status"] == "error" and "NameError" in gone["message"]


async def test_a_kernel_that_dies_mid_run_is_reported_at_once(collab_server):
    path = write_notebook(collab_server.root, "gw_death.ipynb")
    async with connect(collab_server) as mcp, join_room(collab_server, path):
        await call(mcp, "create_notebook_session", path=path, kernel_name=GATEWAY_KERNEL)
        began = time.monotonic()
        code = "import os, time\nprint('going', flush=True)\ntime.sleep(0.5)\nos._exit(1)"
        died = await call(mcp, "execute_code", path=path, code=code, timeout=60)
        took = time.monotonic() - began
        print(f"kernel death: reported after {took:.2f} s (timeout was 60 s)")
        assert died["status"] == "aborted" and "died" in died["message"], died
        assert took < 30  # not the 60 s timeout
        # The gateway restarted it; the next run works on the fresh kernel.
        again = await call(mcp, "execute_code", path=path, code="1 + 1", timeout=60)
        assert again["outputs"][0]["text"] == "2"


async def test_kernel_choice_and_gateway_errors_in_plain_words(collab_server):
    path = write_notebook(collab_server.root, "gw_errors.ipynb")
    async with connect(collab_server) as mcp:
        unknown = await call_error(mcp, "create_notebook_session", path=path, kernel_name="no_such_kernel")
        assert "Unknown kernel 'no_such_kernel'" in unknown and GATEWAY_KERNEL in unknown

        refused = await call_error(mcp, "create_notebook_session", path=path, kernel_name=LOCKED_KERNEL)
        print(f"gateway refusal as the agent reads it: {refused}")
        assert "not in the set of users authorized" in refused and "internal_error" not in refused, refused
        assert "gateway" in refused.lower()
        listing = await call(mcp, "list_kernels")
        assert not [k for k in listing["kernels"] if k["kernel_name"] == LOCKED_KERNEL]  # nothing started


def test_the_server_log_has_no_traceback(collab_server):
    # Runs last in this module: every kernel path above left the server's log clean.
    assert not collab_server.tracebacks(), collab_server.tracebacks()


async def test_a_gateway_that_is_gone_is_named(collab_server, gateway):
    # Last: it stops the gateway.
    gateway.stop()
    async with connect(collab_server) as mcp:
        gone = await call_error(mcp, "list_kernels")
    assert f"The kernel gateway at {gateway.url}" in gone and "not reachable" in gone, gone
