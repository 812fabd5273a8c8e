"""Remote mode under faults: every connection cut mid-session, and a server under a base URL."""

from __future__ import annotations

import asyncio
import json
import tempfile

import pytest

from collab_mcp_core.testing import call, connect_stdio, join_room


class CuttableProxy:
    """A TCP proxy in front of the server whose connections the test can cut at once, as a network failure does."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self.down_until = 0.0  # loop time before which new connections are refused (the network is out)

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if asyncio.get_running_loop().time() < self.down_until:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:  # the server is down: so is the connection
            writer.transport.abort()
            return
        self.links.append((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self, down_for: float = 0.0) -> int:
        """Cut every connection; refuse new ones for ``down_for`` seconds."""
        self.down_until = asyncio.get_running_loop().time() + down_for
        for client, upstream in self.links:
            client.transport.abort()
            upstream.transport.abort()
        count, self.links = len(self.links), []
        return count

    async def stop(self) -> None:
        self.cut()
        self.server.close()


def restart_behind(proxy: CuttableProxy, server, base):
    """Start the server again on the same root with the same token, and point the proxy at it (the same URL)."""
    from collab_mcp_core.testing import start_server

    server = start_server(base, token=server.token, collab_mcp=False)
    proxy.port = server.port
    return server


async def call_until_it_works(mcp, tool: str, arguments: dict, within: float = 30.0):
    """Call a tool every 0.5 s until it succeeds: the agent's room reconnects by itself, and calls
    fail clearly until it has (a failure after ``within`` seconds fails the test with its text)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await mcp.call_tool(tool, arguments)
        if not result.is_error:
            return result
        assert asyncio.get_running_loop().time() < deadline, result.content[0].text
        await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
def plain_server(collab_server_factory):
    return collab_server_factory(collab_mcp=False)


def write_notebook(server, name, sources):
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for i, s in enumerate(sources)]
    (server.root / name).write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def sources(collaborator):
    return [str(c["source"]) for c in collaborator.notebook.ycells]


async def test_everything_cut_mid_session_then_calls_work_without_duplicates(plain_server):
    write_notebook(plain_server, "cut.ipynb", ["n = 1"])
    proxy = CuttableProxy(plain_server.port)
    url = await proxy.start()
    try:
        with tempfile.TemporaryFile("w+") as errlog:
            async with connect_stdio(plain_server, "--mode", "remote", url=url, errlog=errlog) as mcp, \
                    join_room(plain_server, "cut.ipynb") as ada:
                await call(mcp, "insert_notebook_cell", path="cut.ipynb", content="n += 1")
                await ada.wait_for(lambda: sources(ada) == ["n = 1", "n += 1"], what="the first insert")
                await call(mcp, "execute_notebook_cell", path="cut.ipynb", cell_id="c0")

                assert proxy.cut() >= 2  # the room's websocket, the kernel's, pooled HTTP connections
                ada.notebook.append_cell({"cell_type": "markdown", "source": "while you were away", "metadata": {}})

                await call(mcp, "insert_notebook_cell", path="cut.ipynb", content="print(n)")
                await ada.wait_for(lambda: len(sources(ada)) == 4, what="the insert after the cut")
                ran = await call(mcp, "execute_code", path="cut.ipynb", code="print(n * 10)")
                assert ran["outputs"][0]["text"] == "10\n"  # the same kernel: n survived the cut
                agent_view = await call(mcp, "get_notebook", path="cut.ipynb")
                # Ada's cell and the agent's were appended concurrently: either order, each exactly once.
                assert sources(ada)[:2] == ["n = 1", "n += 1"]
                assert sorted(sources(ada)[2:]) == ["print(n)", "while you were away"]
                assert [c["source"] for c in agent_view["cells"]] == sources(ada)
                ids = [c["id"] for c in ada.notebook.ycells]
                assert len(set(ids)) == len(ids)
            errlog.seek(0)
            log = errlog.read()
        assert plain_server.token not in log and "Traceback" not in log
    finally:
        await proxy.stop()



def stream_text(collaborator, index: int) -> str:
    outputs = collaborator.notebook.get()["cells"][index].get("outputs") or []
    return "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")


async def test_output_printed_while_the_kernel_websocket_is_down_is_replayed(plain_server):
    """The network is out for a while mid-run: what the kernel printed meanwhile reaches the cell once it is
    back (jupyter_server buffers a kernel's messages for the session that comes back), each line once."""
    write_notebook(plain_server, "gap.ipynb", ["x = 0"])
    proxy = CuttableProxy(plain_server.port)
    url = await proxy.start()
    code = "import time\nfor i in range(12):\n    print(i, flush=True)\n    time.sleep(0.25)"
    expected = "".join(f"{i}\n" for i in range(12))
    try:
        async with connect_stdio(plain_server, "--mode", "remote", url=url) as mcp, \
                join_room(plain_server, "gap.ipynb") as ada:
            await call(mcp, "execute_code", path="gap.ipynb", code="1")  # the kernel is up and linked
            run = asyncio.create_task(call(mcp, "insert_notebook_cell", path="gap.ipynb", content=code,
                                           execute=True, timeout=60))
            await ada.wait_for(lambda: len(ada.notebook.ycells) == 2 and "1\n" in stream_text(ada, 1),
                               timeout=30, what="the run's first lines")
            assert proxy.cut(down_for=1.5) >= 2  # about six lines are printed while nothing gets through
            done = await run
            assert done["execution"]["status"] == "ok", done
            printed = "".join(o.get("text", "") for o in done["execution"]["outputs"])
            assert printed == expected
            await ada.wait_for(lambda: stream_text(ada, 1) == expected, what="every line in the cell, once")
    finally:
        await proxy.stop()


async def test_remote_mode_under_a_base_url(collab_server_factory):
    server = collab_server_factory("--ServerApp.base_url=/user/alice/", collab_mcp=False)
    write_notebook(server, "based.ipynb", ["1 + 1"])
    async with connect_stdio(server, "--mode", "remote") as mcp, join_room(server, "based.ipynb") as ada:
        await call(mcp, "insert_notebook_cell", path="based.ipynb", content="2 + 2")
        await ada.wait_for(lambda: sources(ada) == ["1 + 1", "2 + 2"], what="the insert under /user/alice/")
        ran = await call(mcp, "execute_code", path="based.ipynb", code="40 + 2")
        assert ran["outputs"][0]["text"] == "42"


async def test_server_restart_mid_session(tmp_path):
    """The server stops and comes back at the same URL: calls meanwhile fail clearly, then work again, no duplicates."""
    from collab_mcp_core.testing import start_server

    base = tmp_path / "restarting"
    server = start_server(base, collab_mcp=False)
    write_notebook(server, "restart.ipynb", ["r = 1"])
    proxy = CuttableProxy(server.port)
    url = await proxy.start()
    try:
        errlog = open(base / "connect.log", "w")  # noqa: SIM115 - read at the end
        async with connect_stdio(server, "--mode", "remote", url=url, errlog=errlog) as mcp, \
                join_room(server, "restart.ipynb") as ada:
            await call(mcp, "insert_notebook_cell", path="restart.ipynb", content="r += 1")
            await ada.wait_for(lambda: sources(ada) == ["r = 1", "r += 1"], what="the first insert")
            await call(mcp, "execute_notebook_cell", path="restart.ipynb", cell_id="c0")
            await call(mcp, "save_notebook", path="restart.ipynb")

            server.stop()
            proxy.cut()
            down = await mcp.call_tool("get_notebook", {"path": "restart.ipynb"})
            assert down.is_error and "Traceback" not in down.content[0].text

            server = restart_behind(proxy, server, base)
            async with join_room(server, "restart.ipynb") as grace:
                await call_until_it_works(mcp, "insert_notebook_cell", {"path": "restart.ipynb", "content": "r * 3"})
                await grace.wait_for(lambda: len(sources(grace)) == 3, what="the insert after the restart")
                assert sources(grace) == ["r = 1", "r += 1", "r * 3"]
                ids = [c["id"] for c in grace.notebook.ycells]
                assert len(set(ids)) == len(ids)
                agent_view = await call(mcp, "get_notebook", path="restart.ipynb")
                assert [c["source"] for c in agent_view["cells"]] == sources(grace)
                ran = await call(mcp, "execute_code", path="restart.ipynb", code="'back'")
                assert ran["outputs"][0]["text"] == "'back'"
    finally:
        await proxy.stop()
        server.stop()
    log = (base / "connect.log").read_text()
    assert server.token not in log and "Traceback" not in log, log


async def test_server_restarted_without_its_update_store_is_adopted_not_duplicated(tmp_path):
    """The server comes back having lost the room's history (no update store): its document is rebuilt from
    the file with new CRDT ids, so the agent's copy is stale. Syncing it back would duplicate every cell;
    the agent must adopt the server's document and edit that."""
    from collab_mcp_core.testing import start_server

    base = tmp_path / "forgetful"
    server = start_server(base, collab_mcp=False)
    write_notebook(server, "lost.ipynb", ["x = 1"])
    proxy = CuttableProxy(server.port)
    url = await proxy.start()
    try:
        errlog = open(base / "connect.log", "w")  # noqa: SIM115 - read at the end
        async with connect_stdio(server, "--mode", "remote", url=url, errlog=errlog) as mcp:
            await call(mcp, "insert_notebook_cell", path="lost.ipynb", content="x += 1")
            await call(mcp, "save_notebook", path="lost.ipynb")
            # A text file whose every character the agent wrote: no client but the agent's in its history.
            (server.root / "lost.md").write_text("")
            await call(mcp, "insert_text", path="lost.md", position=0, content="by the agent\n")
            for _ in range(100):  # the room saves a text file by itself once edits pause
                if (server.root / "lost.md").read_text() == "by the agent\n":
                    break
                await asyncio.sleep(0.1)
            assert (server.root / "lost.md").read_text() == "by the agent\n"
            before = [c["cell_id"] for c in (await call(mcp, "get_notebook", path="lost.ipynb"))["cells"]]

            server.stop()
            proxy.cut()
            stores = list((base / "home").rglob("*ystore*"))
            assert stores, "the update store was expected in the server's working directory"
            for store in stores:
                store.unlink()
            server = restart_behind(proxy, server, base)

            await call_until_it_works(mcp, "insert_notebook_cell", {"path": "lost.ipynb", "content": "x * 3"})
            async with join_room(server, "lost.ipynb") as grace:
                await grace.wait_for(lambda: len(sources(grace)) >= 3, what="the insert after the restart")
                await asyncio.sleep(0.5)  # a duplicate, were one coming, would arrive with the sync
                assert sources(grace) == ["x = 1", "x += 1", "x * 3"]
                ids = [c["id"] for c in grace.notebook.ycells]
                assert len(set(ids)) == len(ids) and ids[:2] == before
                agent_view = await call(mcp, "get_notebook", path="lost.ipynb")
                assert [c["source"] for c in agent_view["cells"]] == sources(grace)
                await call(mcp, "save_notebook", path="lost.ipynb")
                on_disk = json.loads((server.root / "lost.ipynb").read_text())
                assert ["".join(c["source"]) for c in on_disk["cells"]] == ["x = 1", "x += 1", "x * 3"]
            await call(mcp, "insert_text", path="lost.md", position=0, content="# ")
            async with join_room(server, "lost.md", kind="file") as grace:
                await grace.wait_for(lambda: str(grace.text).startswith("# "), what="the text edit after the restart")
                assert str(grace.text) == "# by the agent\n"
    finally:
        await proxy.stop()
        server.stop()
    log = (base / "connect.log").read_text()
    assert "lost its history" in log, log
    assert server.token not in log and "Traceback" not in log, log
