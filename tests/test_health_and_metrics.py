"""What operators probe: ``{base_url}mcp/healthz`` without credentials, and collab-mcp's figures on ``/metrics``."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx2

from collab_mcp_core import __version__
from collab_mcp_core.testing import call, call_error, connect

TESTS = Path(__file__).parent


async def test_healthz_answers_without_credentials_and_says_nothing_more(collab_server):
    async with httpx2.AsyncClient() as http:
        for headers in ({}, {"Authorization": "Bearer not-the-token"}, collab_server.headers):
            answer = await http.get(collab_server.mcp_url + "/healthz", headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"status": "ok", "version": __version__}
            assert "set-cookie" not in answer.headers  # no login, no identity
            assert answer.headers["cache-control"] == "no-store"


async def test_healthz_is_503_while_the_host_starts_and_stops(collab_server_factory):
    env = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]), "SLOW_LIFECYCLE_SECONDS": "6"}
    server = collab_server_factory("--CollabMCP.extra_packs=slow_lifecycle_pack", env=env)
    # The keep-alive connection outlives the listening socket, which closes when the stop begins.
    async with httpx2.AsyncClient(timeout=30) as http:
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answer = await http.get(server.mcp_url + "/healthz")
            seen.append((answer.status_code, answer.json()["status"]))
            if answer.status_code == 200:
                break
            await asyncio.sleep(0.2)
        assert seen[0] == (503, "starting"), seen  # the server answers before the host is ready
        assert seen[-1] == (200, "ok"), seen
        server.process.send_signal(signal.SIGTERM)
        stopping = None
        while time.monotonic() < deadline and stopping is None:
            answer = await http.get(server.mcp_url + "/healthz")
            if answer.status_code == 503:
                stopping = answer.json()
            await asyncio.sleep(0.1)
    assert stopping == {"status": "stopping", "version": __version__}
    server.process.wait(30)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return 0.0


async def test_metrics_count_tool_calls_sessions_and_agent_rooms(collab_server):
    (collab_server.root / "counted.txt").write_text("one two\n")

    async def scrape() -> str:
        async with httpx2.AsyncClient() as http:
            answer = await http.get(collab_server.url + "metrics", headers=collab_server.headers)
        assert answer.status_code == 200
        return answer.text

    before = await scrape()
    async with connect(collab_server) as session:
        await call(session, "get_document", path="counted.txt")  # nobody had it open: an agent opens the room
        await call(session, "get_document", path="counted.txt")
        await call_error(session, "get_document", path="missing.txt")
        during = await scrape()
    after = await scrape()
    ok = {"tool": "get_document", "outcome": "ok"}
    assert metric(during, "collab_mcp_tool_calls_total", **ok) == metric(before, "collab_mcp_tool_calls_total", **ok) + 2
    missing = {"tool": "get_document", "outcome": "not_found"}
    assert metric(during, "collab_mcp_tool_calls_total", **missing) == metric(before, "collab_mcp_tool_calls_total", **missing) + 1
    count = "collab_mcp_tool_call_duration_seconds_count"
    assert metric(during, count, tool="get_document") == metric(before, count, tool="get_document") + 3
    assert metric(during, "collab_mcp_sessions_open") == metric(before, "collab_mcp_sessions_open") + 1
    assert metric(after, "collab_mcp_sessions_open") == metric(before, "collab_mcp_sessions_open")
    assert metric(during, "collab_mcp_agent_rooms_opened_total") == metric(before, "collab_mcp_agent_rooms_opened_total") + 1
    assert metric(during, "collab_mcp_agent_rooms_open") >= 1
    assert "missing.txt" not in during and "counted.txt" not in during  # labels never carry arguments
