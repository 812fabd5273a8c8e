"""``collab-mcp connect URL``: reach a Jupyter server from outside it.

Before anything runs, :func:`probe` checks the server once and turns every
reason it cannot work into one line (:class:`ConnectError`, exit code 2): the
URL answers nothing or is not a Jupyter server, the token is refused, TLS
verification fails, the server has no collaboration API. It also tells the two
ways of reaching the server apart: *bridge* when ``URL/mcp`` answers as
collab-mcp (the extension is installed there), *remote* otherwise.

The token goes into request headers only: it is never printed, logged or put
in an error message.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2

#: Seconds to wait for the server while probing it.
PROBE_TIMEOUT = 15.0

# The package a server needs for remote mode (jupyter-collaboration installs it too).
COLLABORATION_PACKAGES = "jupyter-collaboration (or jupyter-server-ydoc)"


class ConnectError(Exception):
    """Why ``collab-mcp connect`` cannot start, in one line the user can act on."""


@dataclass(frozen=True)
class Target:
    """The Jupyter server to reach: its base URL (ending in ``/``), token and TLS policy."""

    url: str
    token: str | None
    verify: bool = True

    @property
    def mcp_url(self) -> str:
        return self.url + "mcp"

    def headers(self, scheme: str = "token") -> dict[str, str]:
        """Jupyter's own header (``token``) for REST and websockets, ``Bearer`` for MCP."""
        return {"Authorization": f"{scheme} {self.token}"} if self.token else {}

    def http_client(self, *, scheme: str = "token", timeout: httpx2.Timeout | None = None) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            headers=self.headers(scheme), verify=self.verify, timeout=timeout or httpx2.Timeout(PROBE_TIMEOUT)
        )


def parse_url(url: str) -> str:
    """The server's base URL with a trailing ``/`` (``.../mcp`` and ``.../lab`` are trimmed)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectError(f"{url!r} is not a server URL: give one like http://127.0.0.1:8888/ or "
                           "https://hub.example.org/user/NAME/")
    if parts.query:
        raise ConnectError("the URL carries a query string: give the token with --token or JUPYTER_TOKEN, "
                           "never in the URL")
    path = parts.path.rstrip("/")
    for tail in ("/mcp", "/lab", "/tree"):
        if path.endswith(tail):
            path = path[: -len(tail)]
    return urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))


async def probe(target: Target, mode: str = "auto") -> str:
    """Check the server and return the mode to run in (``bridge`` or ``remote``)."""
    async with target.http_client() as http:
        await _check_jupyter(http, target)
        has_collab_mcp = await _serves_collab_mcp(target)
        if mode == "bridge" or (mode == "auto" and has_collab_mcp):
            if not has_collab_mcp:
                raise ConnectError(f"{target.mcp_url} is not a collab-mcp endpoint: install collab-mcp on the "
                                   "server, or leave out --mode bridge to run in remote mode")
            return "bridge"
        await _check_collaboration(http, target)
        return "remote"


async def _get(http: httpx2.AsyncClient, url: str, target: Target) -> httpx2.Response:
    try:
        return await http.get(url)
    except httpx2.ConnectError as err:
        raise ConnectError(_connect_failure(target, err)) from None
    except httpx2.TimeoutException:
        raise ConnectError(f"{target.url} did not answer within {PROBE_TIMEOUT:.0f} s") from None
    except httpx2.HTTPError as err:
        raise ConnectError(f"{target.url} could not be reached: {type(err).__name__}: {err}") from None


def _connect_failure(target: Target, err: Exception) -> str:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (f"the TLS certificate of {urlsplit(target.url).hostname} could not be verified "
                    f"({cause.verify_message}); fix the certificate, or pass --insecure to skip the check")
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed with {target.url}: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
    reason = str(err) or type(err).__name__
    return f"cannot reach {target.url}: {reason} (is the server running, and is the URL right?)"


async def _check_jupyter(http: httpx2.AsyncClient, target: Target) -> None:
    answer = await _get(http, target.url + "api/status", target)
    if answer.status_code in (401, 403) or (answer.is_redirect and "login" in answer.headers.get("location", "")):
        if not target.token:
            raise ConnectError(f"{target.url} needs a token: pass --token or set JUPYTER_TOKEN")
        raise ConnectError(f"{target.url} refused the token (HTTP {answer.status_code}): check --token or "
                           "JUPYTER_TOKEN (a JupyterHub server takes an API token of the hub)")
    if answer.status_code == 404:
        raise ConnectError(f"no Jupyter server at {target.url} (api/status answered 404): check the URL and "
                           "its base path (for example /user/NAME/ on JupyterHub)")
    if answer.status_code != 200 or "started" not in _json(answer):
        raise ConnectError(f"{target.url} is not a Jupyter server (api/status answered HTTP "
                           f"{answer.status_code})")


async def _serves_collab_mcp(target: Target) -> bool:
    """Whether ``URL/mcp`` answers an MCP ``initialize`` as collab-mcp (the session is closed again)."""
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "collab-mcp-connect", "version": "probe"}},
    }
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with target.http_client(scheme="Bearer") as http:
        try:
            answer = await http.post(target.mcp_url, json=initialize, headers=headers)
        except httpx2.HTTPError:
            return False
        if answer.status_code != 200:
            return False
        session = answer.headers.get("mcp-session-id")
        if session:
            try:
                await http.delete(target.mcp_url, headers={"mcp-session-id": session})
            except httpx2.HTTPError:
                pass  # it idles out on the server
        message = _json(answer) if "json" in answer.headers.get("content-type", "") else _sse_data(answer.text)
        return message.get("result", {}).get("serverInfo", {}).get("name") == "collab-mcp"


async def _check_collaboration(http: httpx2.AsyncClient, target: Target) -> None:
    # jupyter-server-ydoc's session handler takes PUT only: GET answers 405 when it is there, 404 when not.
    answer = await _get(http, target.url + "api/collaboration/session/collab-mcp-probe", target)
    if answer.status_code == 404:
        raise ConnectError(f"{target.url} has no collaboration API: install {COLLABORATION_PACKAGES} on the "
                           "server (remote mode edits documents through their shared room)")


def _json(answer: httpx2.Response) -> dict[str, Any]:
    try:
        value = answer.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _sse_data(text: str) -> dict[str, Any]:
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                value = json.loads(line[5:])
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return {}
