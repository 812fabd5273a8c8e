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

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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

    def cut(self) -> int:
        for client, upstream in self.links:
            client.transport.abort()
            upstream.transport.abort()
        count, self.links = len(self.links), []
        return count

    async def stop(self) -> None:
        self.cut()
        self.server.close()


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

            server = start_server(base, token=server.token, collab_mcp=False)  # same root, same token
            proxy.port = server.port
            async with join_room(server, "restart.ipynb") as grace:
                deadline = asyncio.get_running_loop().time() + 30
                while True:  # the agent's room reconnects by itself; calls fail clearly until it has
                    result = await mcp.call_tool("insert_notebook_cell", {"path": "restart.ipynb", "content": "r * 3"})
                    if not result.is_error:
                        break
                    assert asyncio.get_running_loop().time() < deadline, result.content[0].text
                    await asyncio.sleep(0.5)
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
