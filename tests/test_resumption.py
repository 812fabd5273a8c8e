"""How calls are answered (plain JSON, or an SSE stream when the client asked for
progress) and how a client that loses a call's SSE stream resumes it with Last-Event-ID."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import httpx2
import pytest
from traitlets import TraitError

from collab_mcp_core.app import CollabMCP
from collab_mcp_core.transport import _asks_for_progress

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


def progress_call(steps: int, token: str | None) -> dict:
    params: dict = {"name": "slow_progress", "arguments": {"steps": steps}}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params}


async def answer_to(server, message: dict) -> tuple[str, list[dict]]:
    """The content type of the answer and the JSON-RPC messages in it."""
    async with httpx2.AsyncClient(timeout=30) as http:
        headers = await open_session(http, server)
        answer = await http.post(server.mcp_url, json=message, headers=headers)
    kind = answer.headers["Content-Type"].split(";")[0]
    if kind == "application/json":
        return kind, [answer.json()]
    return kind, [data for _, data in events(answer.text.splitlines()) if data]


async def test_a_call_without_progress_token_is_answered_as_plain_json(server):
    kind, messages = await answer_to(server, progress_call(3, None))
    assert kind == "application/json"
    assert messages[0]["id"] == 9 and messages[0]["result"]["structuredContent"] == {"steps": 3}


async def test_a_call_asking_for_progress_is_answered_as_a_stream(server):
    kind, messages = await answer_to(server, progress_call(3, "tok"))
    assert kind == "text/event-stream"
    progress = [m["params"]["progress"] for m in messages if m.get("method") == "notifications/progress"]
    assert progress == [1, 2, 3]
    assert messages[-1]["id"] == 9 and messages[-1]["result"]["structuredContent"] == {"steps": 3}


@pytest.mark.parametrize(("mode", "token", "expected"), [("sse", None, "text/event-stream"), ("json", "tok", "application/json")])
async def test_response_mode_forces_one_kind_of_answer(collab_server_factory, mode, token, expected):
    forced = collab_server_factory("--CollabMCP.extra_packs=sample_pack", f"--CollabMCP.response_mode={mode}", env=ENV)
    kind, messages = await answer_to(forced, progress_call(2, token))
    assert kind == expected
    assert messages[-1]["result"]["structuredContent"] == {"steps": 2}
    if mode == "json":  # a JSON body carries the result only
        assert not [m for m in messages if m.get("method") == "notifications/progress"]


def test_an_unknown_response_mode_is_refused():
    with pytest.raises(TraitError, match="response_mode"):
        CollabMCP(response_mode="fast")


@pytest.mark.parametrize(
    ("body", "streams"),
    [
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":"t"}}}', True),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":0}}}', True),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}', False),
        # the word in an argument is not a request for progress
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"s":"progressToken"}}}', False),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":null}}}', False),
        (b'not json progressToken', False),
        (b'[{"params":{"_meta":{"progressToken":"t"}}}]', False),  # a batch: the SDK refuses it
    ],
)
def test_which_requests_ask_for_progress(body, streams):
    assert _asks_for_progress(body) is streams
