"""Key sources: an HS256 secret, a JWKS URL (cached, rate-limited refresh), and config-time refusals."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from collab_mcp_auth.jwt_provider import JWTAuth, check_algorithms
from collab_mcp_auth.keys import JwksKeys, NoKey
from collab_mcp_auth.scopes import parse_scope
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt_helpers import bearer, mint, pem_public, post_initialize
from traitlets import TraitError

from collab_mcp_core.testing import call, connect

SECRET = "s3cret-" * 6


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts its fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, kid: str, key, algorithm: str) -> None:
        to_jwk = RSAAlgorithm.to_jwk if algorithm.startswith("RS") else ECAlgorithm.to_jwk
        self.keys.append({**to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": algorithm, "use": "sig"})


@pytest.fixture(scope="module")
def jwks(rsa_key, ec_key):
    server = JwksServer()
    server.add("rsa-1", rsa_key, "RS256")
    server.add("ec-1", ec_key, "ES256")
    yield server
    server.httpd.shutdown()


@pytest.fixture(scope="module")
def jwks_server(start_jwt_server, jwks):
    return start_jwt_server(
        algorithms=["RS256", "ES256"], jwks_url=jwks.url, jwks_min_refresh_seconds=1.0, audience=["collab-mcp-test"]
    )


@pytest.fixture(scope="module")
def hs_server(start_jwt_server):
    return start_jwt_server(algorithms=["HS256"], secret=SECRET, revocation_check="auth_revocation_probe.is_revoked")


async def test_jwks_keys_verify_tokens(jwks_server, rsa_key, ec_key):
    for key, kid, alg in ((rsa_key, "rsa-1", "RS256"), (ec_key, "ec-1", "ES256")):
        token = mint(key, "collab-mcp-test", algorithm=alg, headers={"kid": kid}, sub=f"user-{kid}")
        async with connect(jwks_server, headers=bearer(token)) as session:
            assert (await call(session, "probe_read", path="x.txt"))["user"] == f"user-{kid}"


async def test_configured_audience_replaces_the_url(jwks_server, rsa_key):
    token = mint(rsa_key, jwks_server.mcp_url, headers={"kid": "rsa-1"})
    answer = await post_initialize(jwks_server.mcp_url, bearer(token))
    assert answer.status_code == 401 and "audience" in answer.json()["error"]["message"].lower()


async def test_a_key_used_with_another_algorithm_is_refused(jwks_server, rsa_key):
    # A JWKS key is bound to its algorithm: HS256 with an RSA key's id, or RS256 with an EC key's id, is refused.
    token = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "rsa-1"})
    assert (await post_initialize(jwks_server.mcp_url, bearer(token))).status_code == 401
    token = mint(rsa_key, "collab-mcp-test", algorithm="RS256", headers={"kid": "ec-1"})
    assert (await post_initialize(jwks_server.mcp_url, bearer(token))).status_code == 401


async def test_unknown_key_ids_refetch_at_most_once_per_interval(jwks_server, rsa_key, other_rsa_key):
    # Through the server: a token naming a key id the JWKS lacks is refused, and the answer says so.
    token = mint(other_rsa_key, "collab-mcp-test", headers={"kid": "made-up"})
    answer = await post_initialize(jwks_server.mcp_url, bearer(token))
    assert answer.status_code == 401 and "no key with id" in answer.json()["error"]["message"]
    # How often it fetches: on a clock the test moves, so a loaded machine that makes five requests take longer
    # than one interval (real time) cannot turn one interval into two. Its own JWKS endpoint counts the fetches.
    jwks = JwksServer()
    jwks.add("rsa-1", rsa_key, "RS256")
    now = [1000.0]
    keys = JwksKeys(jwks.url, cache_seconds=3600.0, min_refresh_seconds=1.0, clock=lambda: now[0])
    try:
        await keys.key_for({"kid": "rsa-1"})  # the first fetch
        assert jwks.fetches == 1
        for i in range(5):  # within the interval of that fetch: unknown key ids buy no fetch
            with pytest.raises(NoKey, match="no key with id 'made-up-"):
                await keys.key_for({"kid": f"made-up-{i}"})
        assert jwks.fetches == 1
        now[0] += 1.1  # the interval has passed: one refetch, for all of the next five
        for i in range(5, 10):
            with pytest.raises(NoKey, match="no key with id 'made-up-"):
                await keys.key_for({"kid": f"made-up-{i}"})
        assert jwks.fetches == 2
    finally:
        jwks.httpd.shutdown()


async def test_a_rotated_key_is_picked_up(jwks_server, jwks, other_rsa_key):
    token = mint(other_rsa_key, "collab-mcp-test", headers={"kid": "rsa-2"}, sub="rotated")
    jwks.add("rsa-2", other_rsa_key, "RS256")
    await asyncio.sleep(1.1)  # the minimum refresh interval
    async with connect(jwks_server, headers=bearer(token)) as session:
        assert (await call(session, "probe_read", path="x.txt"))["user"] == "rotated"


async def test_a_token_without_key_id_is_refused(jwks_server, rsa_key):
    answer = await post_initialize(jwks_server.mcp_url, bearer(mint(rsa_key, "collab-mcp-test")))
    assert answer.status_code == 401 and "kid" in answer.json()["error"]["message"]


async def test_hs256_secret(hs_server, rsa_key):
    token = mint(SECRET.encode(), hs_server.mcp_url, algorithm="HS256", sub="hs-user")
    async with connect(hs_server, headers=bearer(token)) as session:
        assert (await call(session, "probe_read", path="x.txt"))["user"] == "hs-user"
    forged = mint(b"another-secret-of-enough-length-000", hs_server.mcp_url, algorithm="HS256")
    assert (await post_initialize(hs_server.mcp_url, bearer(forged))).status_code == 401
    public_key_token = mint(rsa_key, hs_server.mcp_url)  # RS256 on an HMAC-only server
    answer = await post_initialize(hs_server.mcp_url, bearer(public_key_token))
    assert answer.status_code == 401 and "alg" in answer.json()["error"]["message"]


async def test_revocation_callable(hs_server):
    token = mint(SECRET.encode(), hs_server.mcp_url, algorithm="HS256", jti="revoked-123")
    answer = await post_initialize(hs_server.mcp_url, bearer(token))
    assert answer.status_code == 401 and "revoked" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("algorithms", "message"),
    [
        (["none"], "must not contain 'none'"),
        (["RS256", "None"], "must not contain 'none'"),
        (["HS256", "RS256"], "mixes HMAC and public-key"),
        (["HS512", "ES256"], "mixes HMAC and public-key"),
        ([], "is empty"),
        (["RS257"], "unknown algorithms"),
    ],
)
def test_bad_algorithm_lists_are_refused_at_config_time(algorithms, message):
    with pytest.raises(TraitError, match=message):
        check_algorithms(algorithms)
    with pytest.raises(TraitError, match=message):
        JWTAuth(algorithms=algorithms)


def test_key_material_must_match_the_algorithms():
    assert JWTAuth(enabled=True, algorithms=["HS256"], secret=SECRET, issuer="i").problems() == []
    assert (
        "need JWTAuth.secret"
        in JWTAuth(enabled=True, algorithms=["HS256"], public_key_file="k.pem", issuer="i").problems()[0]
    )
    assert "HMAC secret" in JWTAuth(enabled=True, algorithms=["RS256"], secret=SECRET, issuer="i").problems()[0]
    assert (
        "exactly one"
        in JWTAuth(enabled=True, secret=SECRET, jwks_url="http://x", algorithms=["HS256"], issuer="i").problems()[0]
    )
    assert "issuer" in JWTAuth(enabled=True, algorithms=["HS256"], secret=SECRET).problems()[0]
    broken = JWTAuth(enabled=True, algorithms=["HS256"], secret=SECRET, issuer="i", revocation_check="no_such.mod")
    assert "cannot be imported" in broken.problems()[0]
    assert "32 characters" in JWTAuth(enabled=True, algorithms=["HS256"], secret="short", issuer="i").problems()[0]


def test_scope_grammar():
    assert parse_scope("write:notebooks/").folder == "notebooks"
    assert parse_scope("write:notebooks/").permissions == {"read", "write"}
    assert parse_scope("admin").permissions == {"read", "write", "execute", "admin"}
    assert parse_scope("execute").permissions == {"read", "execute"}
    for nothing in ("openid", "write:", "write:/", "read:../x", "READ", "read:a/../../b"):
        assert parse_scope(nothing) is None, nothing


async def test_a_server_with_mixed_algorithms_refuses_to_serve_mcp(collab_server_factory):
    # The extension does not load, and `collab-mcp serve` then exits rather than serve without MCP.
    with pytest.raises(RuntimeError) as failure:
        collab_server_factory(config_py='c.JWTAuth.enabled = True\nc.JWTAuth.algorithms = ["HS256", "RS256"]\n')
    assert "JWTAuth.algorithms mixes HMAC and public-key algorithms" in str(failure.value)
    assert "the extension failed to load" in str(failure.value)


async def test_remote_access_needs_a_configured_audience(start_jwt_server, rsa_key, tmp_path):
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(pem_public(rsa_key))
    server = start_jwt_server("--ServerApp.allow_remote_access=True", public_key_file=str(key_file))
    # Any Host is accepted now, so the URL a token names could be anyone's: without JWTAuth.audience, refuse.
    answer = await post_initialize(server.mcp_url, bearer(mint(rsa_key, server.mcp_url)))
    assert answer.status_code == 401 and "JWTAuth.audience must be configured" in answer.json()["error"]["message"]
    assert "set JWTAuth.audience or every JWT will be refused" in server.log_text()
