"""JWT bearer tokens against a real server: what is refused (401) and what works."""

from __future__ import annotations

import base64
import json
import time

import httpx2
import jwt
import pytest
from jwt_helpers import ISSUER, bearer, mint, pem_public, post_initialize

from collab_mcp_core.testing import call, connect


@pytest.fixture(scope="module")
def revoked_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("revoked") / "revoked.txt"
    path.write_text("# revoked token ids\n")
    return path


@pytest.fixture(scope="module")
def server(start_jwt_server, rsa_key, tmp_path_factory, revoked_file):
    key_file = tmp_path_factory.mktemp("keys") / "public.pem"
    key_file.write_bytes(pem_public(rsa_key))
    return start_jwt_server(public_key_file=str(key_file), revoked_jti_file=str(revoked_file), leeway=5.0)


def unsigned(claims: dict) -> str:
    def seg(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'none', 'typ': 'JWT'})}.{seg(claims)}."


async def assert_refused(server, token: str, reason: str) -> None:
    answer = await post_initialize(server.mcp_url, bearer(token))
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")
    message = answer.json()["error"]["message"]
    assert reason.lower() in message.lower(), message
    assert token not in server.log_text()


async def test_a_valid_token_works(server, rsa_key):
    token = mint(rsa_key, server.mcp_url, sub="alice", name="Alice Liddell", color="#ff8800")
    async with connect(server, headers=bearer(token)) as session:
        probed = await call(session, "probe_read", path="notes.txt")
    assert probed["path"] == "notes.txt" and probed["user"] == "alice"
    assert probed["identity"] == {
        "username": "alice",
        "display_name": "Alice Liddell",
        "initials": "AL",
        "color": "#ff8800",
        "provider": "jwt",
    }


async def test_claims_that_could_inject_css_are_dropped(server, rsa_key):
    token = mint(rsa_key, server.mcp_url, sub="carol", name="", color="red; background: url(http://evil)")
    async with connect(server, headers=bearer(token)) as session:
        identity = (await call(session, "probe_read", path="notes.txt"))["identity"]
    assert identity["color"] is None and identity["display_name"] == "carol"


async def test_missing_credentials_are_refused(server):
    answer = await post_initialize(server.mcp_url, {})
    assert answer.status_code == 401
    assert 'resource_metadata="' in answer.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda k, aud: mint(k, aud, exp=int(time.time()) - 60), "expired", id="expired"),
        pytest.param(lambda k, aud: mint(k, aud, nbf=int(time.time()) + 600), "not yet valid", id="not-yet-valid"),
        pytest.param(lambda k, aud: mint(k, aud, iat=int(time.time()) + 600), "not yet valid", id="issued-in-future"),
        pytest.param(lambda k, aud: mint(k, "http://other.example/mcp"), "audience", id="wrong-audience"),
        pytest.param(lambda k, aud: mint(k, aud, iss="https://evil.example"), "issuer", id="wrong-issuer"),
        pytest.param(lambda k, aud: mint(k, aud, exp=None), "exp", id="no-exp"),
        pytest.param(lambda k, aud: mint(k, aud, iat=None), "iat", id="no-iat"),
        pytest.param(lambda k, aud: mint(k, aud, aud=None), "aud", id="no-aud"),
        pytest.param(lambda k, aud: mint(k, aud, iss=None), "iss", id="no-iss"),
        pytest.param(lambda k, aud: mint(k, aud, sub=None), "sub", id="no-sub"),
        pytest.param(lambda k, aud: mint(k, aud, jti=None), "jti", id="no-jti-with-revocation-on"),
        pytest.param(lambda k, aud: mint(k, aud, algorithm="RS512"), "alg", id="wrong-algorithm"),
        pytest.param(
            lambda k, aud: unsigned(
                {
                    "iss": ISSUER,
                    "sub": "mallory",
                    "aud": aud,
                    "iat": int(time.time()),
                    "exp": int(time.time()) + 600,
                    "jti": "x",
                }
            ),
            "alg",
            id="alg-none",
        ),
        pytest.param(
            # The classic confusion: HS256 keyed with the server's RSA *public* key.
            lambda k, aud: jwt.api_jws.PyJWS().encode(
                json.dumps(
                    {
                        "iss": ISSUER,
                        "sub": "mallory",
                        "aud": aud,
                        "iat": int(time.time()),
                        "exp": int(time.time()) + 600,
                        "jti": "y",
                    }
                ).encode(),
                b"an-attacker-chosen-secret-of-32-bytes",
                algorithm="HS256",
            ),
            "alg",
            id="hs256-confusion-header",
        ),
    ],
)
async def test_bad_tokens_are_refused(server, rsa_key, make, reason):
    await assert_refused(server, make(rsa_key, server.mcp_url), reason)


async def test_hs256_signed_with_the_public_key_is_refused(server, rsa_key):
    import hashlib
    import hmac

    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "mallory", "aud": server.mcp_url, "iat": now, "exp": now + 600, "jti": "z"}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    # PyJWT refuses to sign with a PEM as HMAC secret, so sign by hand as an attacker would.
    signature = hmac.new(pem_public(rsa_key), header + b"." + payload, hashlib.sha256).digest()
    token = b".".join([header, payload, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()
    await assert_refused(server, token, "alg")


async def test_a_token_signed_by_another_key_is_refused(server, other_rsa_key):
    await assert_refused(server, mint(other_rsa_key, server.mcp_url), "signature")


async def test_malformed_tokens_are_refused(server):
    for token in ("abc.def.ghi", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "not-a-jwt", "a.b"):
        answer = await post_initialize(server.mcp_url, bearer(token))
        assert answer.status_code == 401, (token, answer.text)


async def test_revoked_token_is_refused_at_once(server, rsa_key, revoked_file):
    token = mint(rsa_key, server.mcp_url, jti="to-be-revoked")
    assert (await post_initialize(server.mcp_url, bearer(token))).status_code == 200
    revoked_file.write_text("# revoked token ids\nto-be-revoked\n")
    await assert_refused(server, token, "revoked")


async def test_the_jupyter_token_still_works_beside_jwt(server):
    async with connect(server) as session:
        probed = await call(session, "probe_read", path="a.txt")
    assert probed["user"].startswith("token-")


async def test_protected_resource_metadata_names_the_issuer(server):
    async with httpx2.AsyncClient() as http:
        answer = await http.get(server.url + ".well-known/oauth-protected-resource/mcp")
    assert answer.status_code == 200
    assert answer.json()["authorization_servers"] == [ISSUER]
    assert answer.json()["resource"] == server.mcp_url


async def test_resource_metadata_is_advertised_under_base_url_at_the_configured_endpoint(
    start_jwt_server, rsa_key, tmp_path_factory
):
    key_file = tmp_path_factory.mktemp("keys") / "public.pem"
    key_file.write_bytes(pem_public(rsa_key))
    server = start_jwt_server("--ServerApp.base_url=/user/ada/", "--CollabMCP.endpoint=agents", public_key_file=str(key_file))
    answer = await post_initialize(server.mcp_url, {})
    assert answer.status_code == 401
    metadata_url = f"http://127.0.0.1:{server.port}/user/ada/.well-known/oauth-protected-resource/agents"
    assert f'resource_metadata="{metadata_url}"' in answer.headers["WWW-Authenticate"]
    async with httpx2.AsyncClient() as http:
        document = await http.get(metadata_url)
    assert document.status_code == 200
    assert document.json()["resource"] == f"http://127.0.0.1:{server.port}/user/ada/agents" == server.mcp_url
    assert document.json()["authorization_servers"] == [ISSUER]
    async with connect(server, headers=bearer(mint(rsa_key, server.mcp_url, sub="ada"))) as session:
        assert (await call(session, "probe_read", path="notes.txt"))["user"] == "ada"


async def test_session_hijack_with_another_identity_is_404(server, rsa_key):
    alice, bob = mint(rsa_key, server.mcp_url, sub="alice"), mint(rsa_key, server.mcp_url, sub="bob")
    opened = await post_initialize(server.mcp_url, bearer(alice))
    session_id = opened.headers["Mcp-Session-Id"]
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Mcp-Session-Id": session_id,
        "Mcp-Protocol-Version": "2025-11-25",
    }
    async with httpx2.AsyncClient() as http:
        stolen = await http.post(server.mcp_url, json=listing, headers={**headers, **bearer(bob)})
        jupyter = await http.post(server.mcp_url, json=listing, headers={**headers, **server.headers})
        own = await http.post(server.mcp_url, json=listing, headers={**headers, **bearer(alice)})
    assert stolen.status_code == 404
    assert jupyter.status_code == 404
    assert own.status_code == 200


async def test_bad_origin_and_host_are_refused_with_a_valid_jwt(server, rsa_key):
    headers = bearer(mint(rsa_key, server.mcp_url))
    assert (await post_initialize(server.mcp_url, {**headers, "Origin": "http://evil.example"})).status_code == 403
    assert (await post_initialize(server.mcp_url, {**headers, "Host": "evil.example"})).status_code == 421
    own_origin = f"http://127.0.0.1:{server.port}"
    assert (await post_initialize(server.mcp_url, {**headers, "Origin": own_origin})).status_code == 200


async def test_token_in_the_query_string_is_refused(server, rsa_key):
    token = mint(rsa_key, server.mcp_url)
    answer = await post_initialize(f"{server.mcp_url}?token={token}", {})
    assert answer.status_code == 401


async def test_jupyter_token_sessions_work_without_cookies(server):
    """Most MCP clients keep no cookies: the token identity must be the same on every request."""
    opened = await post_initialize(server.mcp_url, server.headers)
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Mcp-Session-Id": opened.headers["Mcp-Session-Id"],
        "Mcp-Protocol-Version": "2025-11-25",
    }
    async with httpx2.AsyncClient() as http:  # a fresh client: no cookie from the first request
        again = await http.post(server.mcp_url, json=listing, headers={**headers, **server.headers})
    assert again.status_code == 200, again.text


async def test_anonymous_sessions_work_without_cookies_when_allowed(collab_server_factory):
    """With authentication off and allow_anonymous, a cookieless client keeps its session."""
    server = collab_server_factory(
        "--ServerApp.disable_check_xsrf=True", token="", config_py="c.JupyterAuth.allow_anonymous = True\n"
    )
    opened = await post_initialize(server.mcp_url, {})
    assert opened.status_code == 200, opened.text
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Mcp-Session-Id": opened.headers["Mcp-Session-Id"],
        "Mcp-Protocol-Version": "2025-11-25",
    }
    async with httpx2.AsyncClient() as http:
        again = await http.post(server.mcp_url, json=listing, headers=headers)
    assert again.status_code == 200, again.text
