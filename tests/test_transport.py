"""The MCP endpoint on the Jupyter port: protocol revisions, and who gets in."""

from __future__ import annotations

import httpx2
import pytest

from collab_mcp_core.testing import connect

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


async def post(server, headers=None, url=None, **kwargs):
    async with httpx2.AsyncClient() as http:
        return await http.post(url or server.mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, **(headers or {})}, **kwargs)


async def test_tools_list_over_the_handshake_revision(collab_server):
    async with connect(collab_server) as session:
        assert session.protocol_version == "2025-11-25" if hasattr(session, "protocol_version") else True
        tools = {t.name: t for t in (await session.list_tools()).tools}
    assert "word_count" in tools
    schema = tools["word_count"].input_schema
    assert schema["type"] == "object" and "path" in schema["properties"] and schema["required"] == ["path"]
    assert tools["word_count"].annotations.read_only_hint is True


async def test_tools_list_over_the_2026_revision(collab_server):
    async with connect(collab_server, modern=True) as client:
        assert client.protocol_version == "2026-07-28"
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "word_count" in tools
        (collab_server.root / "a.txt").write_text("one two three\n")
        result = await client.call_tool("word_count", {"path": "a.txt"})
        assert result.structured_content == {"path": "a.txt", "words": 3, "lines": 1}


async def test_handshake_advertises_tool_list_changes(collab_server):
    answer = await post(collab_server, collab_server.headers)
    assert answer.status_code == 200
    assert '"tools":{"listChanged":true}' in answer.text


async def test_no_credentials_is_401_with_www_authenticate(collab_server):
    answer = await post(collab_server)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")
    # No JWT issuer is configured: there is no metadata document to point at.
    assert "resource_metadata" not in answer.headers["WWW-Authenticate"]


async def test_wrong_token_is_401(collab_server):
    answer = await post(collab_server, {"Authorization": "Bearer not-the-token"})
    assert answer.status_code == 401


@pytest.mark.parametrize("scheme", ["Bearer", "token"])
async def test_both_authorization_schemes_work(collab_server, scheme):
    answer = await post(collab_server, {"Authorization": f"{scheme} {collab_server.token}"})
    assert answer.status_code == 200
    assert answer.headers["Mcp-Session-Id"]


async def test_token_in_query_string_is_refused(collab_server):
    answer = await post(collab_server, url=collab_server.mcp_url + f"?token={collab_server.token}")
    assert answer.status_code == 401
    assert "Authorization" in answer.text


async def test_bad_origin_is_403_even_with_a_valid_token(collab_server):
    answer = await post(collab_server, {**collab_server.headers, "Origin": "http://evil.example"})
    assert answer.status_code == 403
    ok = await post(collab_server, {**collab_server.headers, "Origin": f"http://127.0.0.1:{collab_server.port}"})
    assert ok.status_code == 200


async def test_bad_host_is_421(collab_server):
    # Allowed hosts are remembered (Jupyter's check parses the header each time); refusals never are.
    assert (await post(collab_server, collab_server.headers)).status_code == 200
    for _ in range(2):
        answer = await post(collab_server, {**collab_server.headers, "Host": "evil.example"})
        assert answer.status_code == 421
        answer = await post(collab_server, {**collab_server.headers, "Host": f"evil.example:{collab_server.port}"})
        assert answer.status_code == 421


async def test_session_ids_are_unguessable_and_bound(collab_server):
    first = await post(collab_server, collab_server.headers)
    second = await post(collab_server, collab_server.headers)
    ids = {first.headers["Mcp-Session-Id"], second.headers["Mcp-Session-Id"]}
    assert len(ids) == 2 and all(len(i) >= 32 for i in ids)
    # A made-up session id is not served.
    async with httpx2.AsyncClient() as http:
        answer = await http.post(
            collab_server.mcp_url,
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers={**MCP_HEADERS, **collab_server.headers, "Mcp-Session-Id": "0" * 32},
        )
    assert answer.status_code == 404


async def test_a_token_authenticated_call_gets_no_login_cookie(collab_server):
    # The rest of Jupyter still answers a token with a login cookie; the MCP endpoint does not:
    # its client sends the token every time, and a cookie could be ridden cross-site.
    async with httpx2.AsyncClient() as http:
        api = await http.get(collab_server.url + "api/contents", headers=collab_server.headers)
    assert api.status_code == 200 and "set-cookie" in api.headers
    answer = await post(collab_server, collab_server.headers)
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    async with connect(collab_server) as session:  # a whole session without it
        assert "word_count" in {t.name for t in (await session.list_tools()).tools}


async def test_anonymous_server_refuses_by_default(collab_server_factory):
    server = collab_server_factory(token="")
    answer = await post(server)
    assert answer.status_code == 401


async def test_resource_metadata_is_404_without_an_issuer(collab_server):
    async with httpx2.AsyncClient() as http:
        answer = await http.get(collab_server.url + ".well-known/oauth-protected-resource/mcp")
    assert answer.status_code == 404


async def test_cors_preflight_refused_for_unconfigured_origins(collab_server):
    async with httpx2.AsyncClient() as http:
        answer = await http.options(
            collab_server.mcp_url,
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer.headers or answer.headers["Access-Control-Allow-Origin"] == ""


async def test_cors_preflight_answered_for_a_configured_origin(collab_server_factory):
    server = collab_server_factory("--ServerApp.allow_origin=http://app.example")
    async with httpx2.AsyncClient() as http:
        answer = await http.options(
            server.mcp_url, headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"}
        )
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert "Mcp-Session-Id" in answer.headers["Access-Control-Allow-Headers"]
