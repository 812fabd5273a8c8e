"""Remote mode over HTTP: ``collab-mcp connect URL --transport http`` serves the packs on its own port and token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import types

import httpx2
import pytest

from collab_mcp_core.testing import call, connect, free_port, join_room


@pytest.fixture(scope="module")
def plain_server(collab_server_factory):
    return collab_server_factory(collab_mcp=False)


async def test_remote_mode_over_http(plain_server, tmp_path):
    (plain_server.root / "h.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    port = free_port()
    out = open(tmp_path / "connect.out", "w+")  # noqa: SIM115 - read while it runs
    process = subprocess.Popen(
        [sys.executable, "-m", "collab_mcp_core.cli", "connect", plain_server.url, "--transport", "http",
         f"--port={port}"],
        env={**os.environ, "JUPYTER_TOKEN": plain_server.token}, stdin=subprocess.DEVNULL, stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "token:" not in (text := (tmp_path / "connect.out").read_text()):
            assert process.poll() is None and time.monotonic() < deadline, text
            time.sleep(0.1)
        token = text.split("token:")[1].split()[0]
        assert plain_server.token not in text  # the server's token is never printed: only this one
        assert "no JWT, so JWT scopes do not apply" in text
        local = types.SimpleNamespace(mcp_url=f"http://127.0.0.1:{port}/mcp", headers={"Authorization": f"Bearer {token}"})
        async with httpx2.AsyncClient(timeout=httpx2.Timeout(60)) as http:  # not httpx's 5 s: a loaded machine is slow
            refused = await http.post(local.mcp_url, json={}, headers={"Authorization": "Bearer wrong"})
            jwt_shaped = await http.post(local.mcp_url, json={}, headers={"Authorization": "Bearer aaa.bbb.ccc"})
        assert refused.status_code == 401 and jwt_shaped.status_code == 401  # only the printed token passes
        async with connect(local) as mcp, join_room(plain_server, "h.ipynb") as ada:
            await call(mcp, "insert_notebook_cell", path="h.ipynb", content="over http")
            await ada.wait_for(lambda: [str(c["source"]) for c in ada.notebook.ycells][-1:] == ["over http"],
                               what="the insert over HTTP")
    finally:
        process.terminate()
        process.wait(15)
