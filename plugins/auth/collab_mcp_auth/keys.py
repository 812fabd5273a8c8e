"""Where JWT verification keys come from: a shared secret, a PEM file, or a JWKS URL.

Each source answers ``key_for(header)`` with the key PyJWT verifies with. The
JWKS source caches the key set and refetches it when it is old, or when a token
names a key id it does not know, but never more often than
``min_refresh_seconds``: a stream of tokens with made-up key ids must not turn
the server into a fetch amplifier against the identity provider.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Algorithm families: a verifier accepts algorithms of one family only, so a
# public key can never be used as an HMAC secret (the HS/RS confusion attack).
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
PUBLIC_KEY_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512", "ES521", "EdDSA"}
)


class NoKey(Exception):
    """No key can verify this token (unknown key id, unreadable key file)."""


class KeySource(Protocol):
    async def key_for(self, header: dict[str, Any]) -> Any: ...


class SecretKey:
    """A shared HMAC secret (HS256/384/512)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    async def key_for(self, header: dict[str, Any]) -> Any:
        return self._secret


class PemFileKey:
    """A PEM public key file, re-read when it changes (key rotation without restart)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._stamp: tuple[float, int] | None = None
        self._pem = b""

    async def key_for(self, header: dict[str, Any]) -> Any:
        try:
            stat = os.stat(self._path)
        except OSError as err:
            raise NoKey(f"the public key file cannot be read ({err.strerror})") from None
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._stamp:
            with open(self._path, "rb") as f:
                self._pem = f.read()
            self._stamp = stamp
        return self._pem


class JwksKeys:
    """Keys from a JWKS URL (``https://...`` or ``file://...``), cached."""

    def __init__(
        self, url: str, *, cache_seconds: float, min_refresh_seconds: float, timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.clock = clock  # seconds, for the cache and the refresh interval (a test moves its own)
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.timeout = timeout
        self._keys: dict[str, Any] = {}  # kid -> PyJWK
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, header: dict[str, Any]) -> Any:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise NoKey("the token names no key id ('kid'), which a JWKS-verified token must")
        now = self.clock()
        stale = self._fetched_at is None or now - self._fetched_at > self.cache_seconds
        if stale or kid not in self._keys:
            await self._refresh(force=stale)
        key = self._keys.get(kid)
        if key is None:
            raise NoKey(f"no key with id {kid!r} in the JWKS")
        return key

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            now = self.clock()
            if not force and self._fetched_at is not None and now - self._fetched_at < self.min_refresh_seconds:
                return  # an unknown kid does not buy a fetch before min_refresh_seconds
            try:
                data = await asyncio.to_thread(self._fetch)
                self._keys = _parse_jwks(data)
            except Exception as err:  # keep the old keys: a flaky IdP must not log everyone out
                log.warning("JWTAuth: could not fetch the JWKS from %s: %s", self.url, err)
                if self._fetched_at is None:
                    self._fetched_at = now
                    raise NoKey("the JWKS could not be fetched") from None
            self._fetched_at = now

    def _fetch(self) -> dict[str, Any]:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json", "User-Agent": "collab-mcp"})
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - operator-configured URL
            return json.loads(answer.read())


def _parse_jwks(data: dict[str, Any]) -> dict[str, Any]:
    """kid -> PyJWK for the usable signing keys of a JWKS document."""
    import jwt

    keys: dict[str, Any] = {}
    for entry in data.get("keys", []):
        if entry.get("use", "sig") != "sig" or "kid" not in entry:
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry)
        except jwt.PyJWTError as err:
            log.warning("JWTAuth: skipping JWKS key %r: %s", entry.get("kid"), err)
    return keys
