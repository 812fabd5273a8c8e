"""A client that loses a tool call's SSE stream resumes it with Last-Event-ID."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import httpx2
import pytest

TESTS = Path(__file__).parent
ENV = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
SSE = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def server(collab_server_factory):
    return collab_server_factory("--CollabMCP.extra_packs=sample_pack", env=ENV)


async def open_session(http: httpx2.AsyncClient, server) -> dict[str, str]:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    answer = await http.post(server.mcp_url, json=init, headers={**SSE, **server.headers})
    headers = {**SSE, **server.headers, "Mcp-Session-Id": answer.headers["Mcp-Session-Id"],
               "Mcp-Protocol-Version": "2025-11-25"}
    await http.post(server.mcp_url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


def events(lines: list[str]) -> list[tuple[str | None, dict | None]]:
    """(id, JSON data) per SSE event."""
    out, event_id = [], None
    for line in lines:
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
            out.append((event_id, json.loads(data) if data else None))
    return out


async def test_a_dropped_stream_resumes_with_last_event_id(server):
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "slow_progress", "arguments": {"steps": 6, "delay": 0.2}, "_meta": {"progressToken": "p"}}}
    async with httpx2.AsyncClient(timeout=30) as http:
        headers = await open_session(http, server)
        seen: list[str] = []
        async with http.stream("POST", server.mcp_url, json=call, headers=headers) as stream:
            async for line in stream.aiter_lines():
                seen.append(line)
                got = [e for e in events(seen) if e[1] and e[1].get("method") == "notifications/progress"]
                if got:
                    break  # drop the connection after the first progress notification
        last_id = got[0][0]
        assert last_id and got[0][1]["params"]["progress"] == 1
        await anyio.sleep(1.5)  # the call finishes while nobody listens

        resumed: list[str] = []
        async with http.stream("GET", server.mcp_url, headers={**headers, "Last-Event-ID": last_id}) as stream:
            with anyio.move_on_after(5):
                async for line in stream.aiter_lines():
                    resumed.append(line)
                    if any(e[1] and e[1].get("id") == 7 for e in events(resumed)):
                        break
        replayed = [e[1] for e in events(resumed) if e[1]]
        progress = [m["params"]["progress"] for m in replayed if m.get("method") == "notifications/progress"]
        assert progress == [2, 3, 4, 5, 6]
        result = [m for m in replayed if m.get("id") == 7]
        assert result and result[0]["result"]["structuredContent"] == {"steps": 6}

        # Another session presenting that event id gets nothing of this session's.
        other = await open_session(http, server)
        foreign: list[str] = []
        async with http.stream("GET", server.mcp_url, headers={**other, "Last-Event-ID": last_id}) as stream:
            with anyio.move_on_after(1.5):
                async for line in stream.aiter_lines():
                    foreign.append(line)
        assert not [e for e in events(foreign) if e[1]]
