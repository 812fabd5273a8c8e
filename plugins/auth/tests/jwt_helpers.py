"""Token minting and raw MCP requests for the auth tests."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2
import jwt
from cryptography.hazmat.primitives import serialization

TESTS = Path(__file__).parent
ISSUER = "https://idp.example.test"
PROBE = "--CollabMCP.extra_packs=auth_probe_pack"
ENV = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def pem_private(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pem_public(key: Any) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def claims_for(audience: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": f"agent-{uuid.uuid4().hex[:8]}",
        "aud": audience,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "scope": "read write execute",
        "name": "Test Agent",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}  # None removes a claim


def mint(
    key: Any, audience: str, *, algorithm: str = "RS256", headers: dict[str, Any] | None = None, **claims: Any
) -> str:
    """A signed token; claim overrides set to None are left out."""
    signing_key = pem_private(key) if hasattr(key, "private_bytes") else key
    return jwt.encode(claims_for(audience, **claims), signing_key, algorithm=algorithm, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post_initialize(url: str, headers: dict[str, str]) -> httpx2.Response:
    async with httpx2.AsyncClient() as http:
        return await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})


def jwt_config(events_log: Path, **settings: Any) -> str:
    """A jupyter_server_config.py enabling JWTAuth with ``settings`` and logging events to a file."""
    lines = ["import logging", f"c.EventLogger.handlers = [logging.FileHandler({str(events_log)!r})]"]
    lines += ["c.JWTAuth.enabled = True", f"c.JWTAuth.issuer = {ISSUER!r}"]
    lines += [
        f"c.{k.replace('__', '.')} = {v!r}" if "__" in k else f"c.JWTAuth.{k} = {v!r}" for k, v in settings.items()
    ]
    return "\n".join(lines) + "\n"
