"""MCP Streamable HTTP on the Jupyter server's own port.

Tornado has no ASGI support, so :class:`MCPHandler` (a Jupyter handler, so the
server's own authentication runs first) calls the MCP SDK's ASGI session
manager itself: it builds the scope from the request, flushes every body chunk
(SSE breaks otherwise), turns a closed connection into ``http.disconnect`` and
puts the caller's identity in ``scope["user"]`` so the SDK binds each session
to the credential that opened it.

Checks, in order: Host (421), Origin (403, also for bearer tokens), tokens in
the query string (401), identity (401 with ``WWW-Authenticate``; 403 for a
caller JupyterHub knows but refuses this server). ``{endpoint}/healthz``
(:class:`HealthHandler`) answers probes without any of these.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from uuid import uuid4

import pydantic_core

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http import (
    EventCallback,
    EventId,
    EventMessage,
    EventStore,
    StreamableHTTPServerTransport,
    StreamId,
)
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from tornado import web
from tornado.iostream import StreamClosedError

from . import metrics
from .version import __version__
from .host import SCOPE_HANDLER, SCOPE_IDENTITY

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp
    from mcp_types import JSONRPCMessage

    from .host import Host
    from .identity import Identity

log = logging.getLogger(__name__)

#: Query arguments that carry credentials (Jupyter's and OAuth's names): refused on the endpoint, never logged.
URL_CREDENTIALS = ("token", "access_token")

#: RFC 9728's well-known prefix of protected-resource metadata.
METADATA_PATH = ".well-known/oauth-protected-resource"

#: How tool calls and other requests are answered (``c.CollabMCP.response_mode``).
RESPONSE_MODES = ("auto", "sse", "json")

# Set while one POST is handled: answer it as plain JSON (True) or an SSE stream (False).
_answer_as_json: ContextVar[bool | None] = ContextVar("collab_mcp_answer_as_json", default=None)


class SessionEventStore(EventStore):
    """A bounded event store for ONE session, so a client reconnecting with
    ``Last-Event-ID`` gets what it missed.

    Each session gets its own store, and event ids are random, so an id from one
    session (or user) can never replay another session's events.
    """

    def __init__(self, max_events: int) -> None:
        self._events: collections.OrderedDict[EventId, tuple[StreamId, JSONRPCMessage | None]] = (
            collections.OrderedDict()
        )
        self._max_events = max_events

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = secrets.token_urlsafe(18)
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self._max_events:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        if last_event_id not in self._events:
            return None
        stream_id = self._events[last_event_id][0]
        after = False
        for event_id, (event_stream, message) in list(self._events.items()):
            if after and event_stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
            after = after or event_id == last_event_id
        return stream_id


class SessionTransport(StreamableHTTPServerTransport):
    """The SDK's session transport, choosing per request between JSON and SSE answers.

    An SSE answer costs about 1.5 ms more per call than plain JSON (the SDK's
    per-response tasks and stream framing) and is only needed when the server
    has something to send before the result: progress notifications, which a
    client asks for with ``_meta.progressToken``. In ``auto`` mode a request
    without one gets JSON, and one with it gets SSE (with Last-Event-ID
    resumption); ``sse`` and ``json`` force one or the other.
    """

    def __init__(self, *args: Any, response_mode: str = "auto", **kwargs: Any) -> None:
        self._default_json = False
        super().__init__(*args, is_json_response_enabled=response_mode == "json", **kwargs)
        self.response_mode = response_mode

    # The SDK reads this flag while handling a POST (inside the context var set
    # below) and in its session-long message router (outside it, so the router
    # keeps forwarding progress to the SSE answers that wait for it).
    @property  # type: ignore[override]
    def is_json_response_enabled(self) -> bool:
        choice = _answer_as_json.get()
        return self._default_json if choice is None else choice

    @is_json_response_enabled.setter
    def is_json_response_enabled(self, value: bool) -> None:
        self._default_json = value

    async def _handle_post_request(self, scope: Any, request: Any, receive: Any, send: Any) -> None:
        if self.response_mode != "auto":
            await super()._handle_post_request(scope, request, receive, send)
            return
        token = _answer_as_json.set(not _asks_for_progress(await request.body()))  # the body is cached
        try:
            await super()._handle_post_request(scope, request, receive, send)
        finally:
            _answer_as_json.reset(token)


def _asks_for_progress(body: bytes) -> bool:
    """Whether a JSON-RPC request body carries ``params._meta.progressToken``."""
    if b"progressToken" not in body:
        return False  # the common case, decided without parsing
    try:
        message = pydantic_core.from_json(body)
    except ValueError:
        return False  # the SDK answers the parse error
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and meta.get("progressToken") is not None


class SessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager, with our transport, a store per session and a hook when a session ends."""

    def __init__(
        self,
        *args: Any,
        response_mode: str,
        max_events: int,
        on_session_closed: Callable[[str], Awaitable[None]],
        **kwargs: Any,
    ):
        if response_mode not in RESPONSE_MODES:
            raise ValueError(f"response_mode must be one of {', '.join(RESPONSE_MODES)}, not {response_mode!r}")
        # "json" is the SDK's own JSON mode; "auto" leaves the SDK in SSE mode (for the 2026
        # protocol it already answers JSON unless a notification comes first) and our
        # transport picks per request.
        super().__init__(*args, json_response=response_mode == "json", **kwargs)
        self.response_mode = response_mode
        self._max_events = max_events
        self._on_session_closed = on_session_closed

    def _admit_session(self, requestor: Any) -> StreamableHTTPServerTransport | None:
        # As the SDK's, but with our transport and a store per session (the SDK shares one).
        if self.max_sessions is not None and len(self._server_instances) >= self.max_sessions:
            return None
        transport = SessionTransport(
            mcp_session_id=uuid4().hex,
            response_mode=self.response_mode,
            event_store=SessionEventStore(self._max_events),
            security_settings=self.security_settings,
            retry_interval=self.retry_interval,
            idle_timeout=self.session_idle_timeout,
        )
        session_id = transport.mcp_session_id
        assert session_id is not None
        if requestor is not None:
            self._session_owners[session_id] = requestor
        self._server_instances[session_id] = transport
        metrics.SESSIONS_OPEN.inc()
        return transport

    async def _discard_session(self, session_id: str, transport: Any) -> None:
        known = session_id in self._server_instances
        await super()._discard_session(session_id, transport)
        if known:
            metrics.SESSIONS_OPEN.dec()
            try:
                await self._on_session_closed(session_id)
            except Exception:
                log.exception("session-closed listeners failed for %s", session_id)


def security_settings(serverapp: ServerApp) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding settings, derived from the Jupyter server's own.

    The Tornado handler already enforces Jupyter's rules (including
    ``allow_remote_access`` and ``allow_origin_pat``, which the SDK's simple
    lists cannot express); these settings repeat them for the default, local
    case, and only relax where the operator relaxed Jupyter.
    """
    names = {"localhost", "127.0.0.1", "[::1]", *serverapp.local_hostnames}
    if serverapp.ip and serverapp.ip not in ("0.0.0.0", "::", "*"):  # noqa: S104
        names.add(f"[{serverapp.ip}]" if ":" in serverapp.ip else serverapp.ip)
    hosts = sorted({*names, *(f"{n}:*" for n in names)})
    origins = sorted({f"{scheme}://{n}{port}" for n in names for scheme in ("http", "https") for port in ("", ":*")})
    if serverapp.allow_origin and serverapp.allow_origin != "*":
        origins.append(serverapp.allow_origin)
    expressible = not (serverapp.allow_remote_access or serverapp.allow_origin == "*" or serverapp.allow_origin_pat)
    if not expressible:
        log.info("CollabMCP: Host/Origin checks are enforced by the Jupyter handler (remote access or origin patterns are configured)")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=expressible, allowed_hosts=hosts, allowed_origins=origins
    )


class MCPHandler(JupyterHandler):
    """Serves ``{base_url}mcp``: Jupyter's checks, then the MCP SDK's ASGI app."""

    host: Host
    manager: StreamableHTTPSessionManager

    def initialize(self, host: Host, manager: StreamableHTTPSessionManager) -> None:
        self.host = host
        self.manager = manager
        self._disconnected = asyncio.Event()
        self._identity: Identity | None = None
        self._cookies_held: list[tuple[tuple[Any, ...], dict[str, Any]]] | None = None  # see set_secure_cookie

    # Jupyter answers a bad Host with 403 before the SDK could say 421; we answer it ourselves.
    def check_host(self) -> bool:
        return True

    def check_xsrf_cookie(self) -> None:
        # Tornado and Jupyter call this before we know the identity; prepare()
        # runs the real check once it does, so no credentials means 401, not 403.
        return None

    async def prepare(self) -> None:  # type: ignore[override]
        if not self._host_allowed():
            raise web.HTTPError(421, "Host header not allowed")
        if not self._origin_allowed():
            raise web.HTTPError(403, "Origin not allowed")
        if self.request.method == "OPTIONS":
            return  # preflights carry no credentials
        if any(name in self.request.query_arguments for name in URL_CREDENTIALS):
            await self._unauthorized("Tokens in the URL are refused on the MCP endpoint; send 'Authorization: Bearer <token>'.")
        self._cookies_held = []
        try:
            await super().prepare(_redirect_to_login=False)
        finally:
            held, self._cookies_held = self._cookies_held, None
        if not self.token_authenticated:
            for args, kwargs in held:
                self.set_secure_cookie(*args, **kwargs)
        self._identity = await self.host.packs.identify_request(self, self.host)
        if self._identity is None:
            if "redirect" in vars(self):
                # JupyterHub's identity provider knew the caller but refused it this server:
                # it replaces the handler's redirect so that Jupyter's own handlers answer 403.
                raise web.HTTPError(403, "Forbidden: you are authenticated, but this server is not shared with you.")
            await self._unauthorized("Authentication required: send 'Authorization: Bearer <token>'.")
        if self._identity.provider == "jupyter" and self.request.method not in ("GET", "HEAD", "OPTIONS"):
            # Only a login cookie can be ridden cross-site; header credentials cannot.
            JupyterHandler.check_xsrf_cookie(self)

    def set_secure_cookie(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Held while Jupyter identifies the caller, and dropped if a token did.

        Jupyter answers a token-authenticated request with a login cookie. An MCP client
        sends its token with every request, so the cookie only turns a header credential
        into one a browser could ride cross-site, and costs both sides a signed cookie on
        every later request. Without a token (a JupyterHub login, no auth) cookies are set.
        """
        if self._cookies_held is not None:
            self._cookies_held.append((args, kwargs))
            return
        super().set_secure_cookie(*args, **kwargs)

    def _host_allowed(self) -> bool:
        """Jupyter's Host check, remembered for names and addresses it allowed.

        The check parses the header as an IP address on every request (a twentieth of a
        ping's server time); its answer for a name or an address depends only on the
        server's settings, which do not change while it runs. A UNIX socket path is
        checked each time (the file may go), and refusals are never remembered.
        """
        host, known = self.request.host, self.settings.setdefault("collab_mcp_allowed_hosts", set())
        if host in known:
            return True
        allowed = JupyterHandler.check_host(self)
        if allowed and not host.startswith("/") and "%2F" not in host.upper() and len(known) < 64:
            known.add(host)
        return allowed

    def _request_summary(self) -> str:
        # Tornado's warning for every refused request names the URL; its query
        # may carry a token (refused, but still a secret), so it is left out.
        query = "?[query omitted]" if self.request.query else ""
        return f"{self.request.method} {self.request.path}{query} ({self.request.remote_ip})"

    @property
    def endpoint_url(self) -> str:
        """The MCP endpoint's URL as the caller reached it (a JWT's default audience)."""
        return endpoint_url(self)

    async def _unauthorized(self, message: str) -> None:
        """Answer 401; ``resource_metadata`` is advertised only where a pack serves the document (a JWT issuer)."""
        self._www_authenticate = 'Bearer realm="collab-mcp"'
        if await self.host.packs.protected_resource_metadata(endpoint_url(self), self.host) is not None:
            self._www_authenticate += f', resource_metadata="{resource_metadata_url(self)}"'
        raise web.HTTPError(401, message)  # write_error adds WWW-Authenticate

    def _origin_allowed(self) -> bool:
        """Jupyter's origin rules, applied even to token-authenticated requests."""
        origin = self.request.headers.get("Origin")
        if not origin:
            return True  # scripts and MCP clients send none
        if self.allow_origin == "*":
            return True
        if urlparse(origin.lower()).netloc == self.request.host.lower():
            return True
        if self.allow_origin:
            return self.allow_origin == origin
        if self.allow_origin_pat:
            return bool(re.match(self.allow_origin_pat, origin))
        return False

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        if status_code == 401:  # Tornado clears headers before write_error, so it is set here
            self.set_header("WWW-Authenticate", getattr(self, "_www_authenticate", 'Bearer realm="collab-mcp"'))
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.finish({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}})

    def on_connection_close(self) -> None:
        self._disconnected.set()

    @allow_unauthenticated
    async def options(self) -> None:
        """CORS preflight: answered only for origins the operator configured."""
        origin = self.request.headers.get("Origin")
        configured = self.allow_origin or self.allow_origin_pat
        if not origin or not configured or not self._origin_allowed():
            raise web.HTTPError(403, "CORS preflight refused: this origin is not configured (ServerApp.allow_origin)")
        self.set_header("Access-Control-Allow-Origin", origin)
        self.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
        self.set_header(
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID",
        )
        self.set_header("Access-Control-Expose-Headers", "Mcp-Session-Id, WWW-Authenticate")
        self.set_header("Vary", "Origin")
        self.set_status(204)
        self.finish()

    @allow_unauthenticated  # we refuse unauthenticated requests ourselves, with 401 and WWW-Authenticate
    async def get(self) -> None:
        await self._serve()

    @allow_unauthenticated
    async def post(self) -> None:
        await self._serve()

    @allow_unauthenticated
    async def delete(self) -> None:
        await self._serve()

    async def _serve(self) -> None:
        assert self._identity is not None
        request = self.request
        identity = self._identity
        host, _, port = request.host.rpartition(":")
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": request.version.removeprefix("HTTP/"),
            "method": request.method,
            "scheme": request.protocol,
            "path": request.path,
            "raw_path": request.path.encode(),
            "query_string": request.query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.get_all()],
            "client": (request.remote_ip, 0),
            "server": (host or request.host, int(port) if port.isdigit() else 0),
            # The SDK binds a session to this principal: another identity gets 404 for it.
            "user": AuthenticatedUser(
                AccessToken(
                    token="",  # never the credential itself
                    client_id=identity.username,
                    subject=identity.username,
                    scopes=sorted(identity.scopes or ()),
                    claims={"iss": identity.provider},
                )
            ),
            SCOPE_IDENTITY: identity,
            SCOPE_HANDLER: self,
        }
        body_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": request.body or b"", "more_body": False}
            await self._disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if self._disconnected.is_set():
                return
            if message["type"] == "http.response.start":
                self.set_status(message["status"])
                self.clear_header("Content-Type")
                headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
                for key, value in headers:
                    self.add_header(key, value)
                if any(k.lower() == "content-type" and v.startswith("text/event-stream") for k, v in headers):
                    # Proxies that buffer (nginx, a Kubernetes ingress) would hold progress back.
                    self.set_header("X-Accel-Buffering", "no")
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if chunk:
                    self.write(chunk)
                if message.get("more_body", False):
                    try:
                        await self.flush()
                    except StreamClosedError:
                        self._disconnected.set()

        await self.manager.handle_request(scope, receive, send)
        if not self._finished:
            self.finish()


def endpoint_url(handler: JupyterHandler) -> str:
    """The MCP endpoint's URL as the caller reached it: ``{base_url}{endpoint}``."""
    return f"{handler.request.protocol}://{handler.request.host}{handler.base_url}{handler.host.app.endpoint}"


def resource_metadata_url(handler: JupyterHandler) -> str:
    """Where the endpoint's RFC 9728 metadata is served: under base_url, so a proxy in front
    (JupyterHub's sends the site root to the hub) still reaches this server."""
    return f"{handler.request.protocol}://{handler.request.host}{handler.base_url}{METADATA_PATH}/{handler.host.app.endpoint}"


class HealthHandler(JupyterHandler):
    """``{base_url}{endpoint}/healthz``: liveness and readiness, for probes that hold no credentials.

    200 ``{"status": "ok", "version": ...}`` while the host serves, 503 with
    ``starting`` or ``stopping`` otherwise; nothing else (no user, no room, no pack).
    """

    def initialize(self, host: Host) -> None:
        self.host = host

    async def prepare(self) -> None:  # type: ignore[override]
        # Not Jupyter's prepare: it would identify the caller (and set a login cookie
        # for a token); a probe is nobody. Jupyter's Host check still applies.
        if not self.check_host():
            raise web.HTTPError(403, "Host header not allowed")

    @allow_unauthenticated
    def get(self) -> None:
        status = self.host.app.serving_status
        self.set_status(200 if status == "ok" else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish({"status": status, "version": __version__})


class ResourceMetadataHandler(JupyterHandler):
    """The endpoint's RFC 9728 metadata, when a pack provides it (a JWT issuer is configured)."""

    def initialize(self, host: Host) -> None:
        self.host = host

    @allow_unauthenticated  # discovery documents are public by design
    async def get(self) -> None:
        metadata = await self.host.packs.protected_resource_metadata(endpoint_url(self), self.host)
        if metadata is None:
            raise web.HTTPError(404, "No authorization server is configured for this MCP endpoint")
        self.set_header("Content-Type", "application/json")
        self.finish(metadata)
