"""The host: the MCP server that knows no tool, only packs.

It builds the tool registry from the packs, answers ``tools/list`` and
``tools/call`` (validating arguments itself: the MCP SDK 2.x does not),
checks permissions, runs calls through the ``call_tool`` wrapper hooks, emits
events, serves the packs' resources and tells connected sessions when tools
or resources change.
"""

from __future__ import annotations

import base64
import difflib
import json
import logging
import time
from typing import TYPE_CHECKING, Any, TypeVar

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.connection import Connection
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourceUpdated, ToolsListChanged
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel

from . import completions, metrics
from .arguments import validate, with_new_names
from .version import __version__
from .context import ToolContext
from .decisions import Deny, is_denial
from .errors import NotFound, PermissionDenied, ToolError
from .events import HOST_EVENTS, Event, EventBus, ToolCalled, ToolFailed
from .hookspecs import hookimpl
from .mcp_connection import connection_of, session_id_of
from .notices import Notices
from .packs import HOST_PLUGIN, PackManager
from .prompts import Prompt, PromptRegistry
from .registry import ResourceTemplate, Tool, ToolCall, ToolRegistry
from .state import CallerState, caller_key
from .subscriptions import Subscriptions, well_formed
from .tools import ToolOutput
from .update_store import edits_by

if TYPE_CHECKING:
    from traitlets.config import Configurable

    from .backend import LocalBackend
    from .identity import Identity

log = logging.getLogger(__name__)
C = TypeVar("C")

# Where the Tornado bridge puts the caller's identity in the ASGI scope.
SCOPE_IDENTITY = "collab_mcp.identity"
SCOPE_HANDLER = "collab_mcp.handler"
STDIO_SESSION = "stdio"  # the key of a stdio process's one connection in Host.connections
RESOURCE_NOT_FOUND = -32002  # the spec's JSON-RPC error code for resources/read of an unknown resource

INSTRUCTIONS = (
    "collab-mcp: you are a collaborator in a live Jupyter session. Your edits go through the same shared "
    "document people have open in JupyterLab, so they see your changes as you make them. Paths are relative "
    "to the Jupyter server's root; positions and lengths in text count characters (Unicode code points); "
    "cell indexes are 0-based."
)


class Host:
    """Owns the registry, the event bus and the MCP server for one Jupyter server.

    Packs see it through :class:`~collab_mcp_core.context.HostServices`.
    """

    def __init__(
        self, *, app: Any, packs: PackManager, backend: LocalBackend, local_identity: Identity | None = None
    ) -> None:
        self.app = app  # the CollabMCP extension app (config parent of pack configurables)
        self.packs = packs
        self.backend = backend
        # The caller when requests carry no identity: the one user of a stdio process (remote mode).
        self.local_identity = local_identity
        self.state = CallerState()
        self.packs.register(_HostImplementation(self), name=HOST_PLUGIN)
        self.events = EventBus(getattr(app.serverapp, "event_logger", None), lambda e: self.packs.on_event(e, self))
        for event_class in HOST_EVENTS:
            self.events.register(event_class)
        self.packs.collect_events(self.events.register)
        self._configurables: dict[type, Configurable] = {}
        for cls in self.packs.collect_configurables():
            self._configurables[cls] = cls(parent=app)
        self.registry = self._build_registry()
        self.prompts = self._build_prompts()
        self.bus = InMemorySubscriptionBus()
        self._listen = ListenHandler(self.bus)
        # Handshake-era connections, by session id, for notifications outside a request.
        self.connections: dict[str, Connection] = {}
        self.subscriptions = Subscriptions(self._document_exists, self.resource_updated)
        self.session_identities: dict[str, Identity] = {}
        self.notices = Notices(self)
        self.server = self._build_server()

    # -- registry ------------------------------------------------------------------------

    def _build_registry(self) -> ToolRegistry:
        registry = ToolRegistry()
        self.packs.collect_tools(registry)
        registry.keep_only(self.app.allowed_tools or None, self.app.denied_tools)
        return registry

    async def refresh_tools(self) -> bool:
        """Rebuild the registry (after packs changed); tell every session if the tool set changed."""
        before = {n: t.mcp_tool for n, t in self.registry.tools.items()}
        self.registry = self._build_registry()
        after = {n: t.mcp_tool for n, t in self.registry.tools.items()}
        if before == after:
            return False
        for connection in list(self.connections.values()):
            await connection.send_tool_list_changed()  # best effort: never raises
        await self.bus.publish(ToolsListChanged())
        return True

    def config(self, cls: type[C]) -> C:
        """The configured instance of a registered ``Configurable`` (``c.NotebookPack...``)."""
        try:
            return self._configurables[cls]  # type: ignore[return-value]
        except KeyError:
            raise LookupError(f"{cls.__name__} was not registered through register_configurables") from None

    async def emit(self, event: Event) -> None:
        """Send ``event`` to Jupyter's event bus and every pack's ``on_event``."""
        await self.events.emit(event)

    # -- MCP handlers --------------------------------------------------------------------

    def _build_server(self) -> Server:
        server: Server = Server(
            "collab-mcp",
            version=__version__,
            title="collab-mcp",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_list_resource_templates=self._list_resource_templates,
            on_read_resource=self._read_resource,
            on_subscribe_resource=self._subscribe,
            on_unsubscribe_resource=self._unsubscribe,
            on_subscriptions_listen=self._listen,
            on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt,
            on_completion=self._complete,
            get_tool_input_schema=self._input_schema,
        )
        # The logging capability: added as a plain handler, since the constructor's
        # on_set_logging_level warns that 2026-07-28 deprecates it (2025-11-25 clients use it).
        server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, self._set_log_level)
        # Old-protocol clients only hear about tool list changes if we advertise it.
        server.get_capabilities = _with_list_changed(server.get_capabilities)  # type: ignore[method-assign]
        return server

    async def _set_log_level(self, ctx: ServerRequestContext, params: types.SetLevelRequestParams) -> types.EmptyResult:
        self._identity(ctx)
        session_id = _session_key(ctx)
        if session_id:
            self.notices.set_level(session_id, params.level)
        return types.EmptyResult()

    def _identity(self, ctx: ServerRequestContext) -> Identity:
        request = ctx.request
        identity = request.scope.get(SCOPE_IDENTITY) if request is not None else self.local_identity
        if identity is None:  # the transport never lets this happen; refuse rather than guess
            raise MCPError(types.INVALID_REQUEST, "unauthenticated request")
        session_id = _session_key(ctx)
        if session_id:
            self.connections[session_id] = connection_of(ctx)
            self.session_identities[session_id] = identity
        return identity

    def _context(self, ctx: ServerRequestContext, tool: Tool | None = None) -> ToolContext:
        identity = self._identity(ctx)
        request = ctx.request
        return ToolContext(
            host=self,
            identity=identity,
            session_id=session_id_of(ctx),
            tool=tool.name if tool else "",
            pack=tool.pack if tool else "",
            handler=request.scope.get(SCOPE_HANDLER) if request is not None else None,
            request_context=ctx,
        )

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        tool = self.registry.tools.get(name)
        return tool.mcp_tool.input_schema if tool else None

    async def _list_tools(self, ctx: ServerRequestContext, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[t.mcp_tool for t in await self._offered(self._context(ctx))])

    async def _offered(self, ctx: ToolContext) -> list[Tool]:
        """The tools ``tools/list`` offers the caller: those the packs (or Jupyter) do not hide from it."""
        shown = []
        for tool in self.registry.tools.values():
            verdict = await self.packs.tool_visible(ctx.identity, tool, self)
            if verdict is None and ctx.identity.jupyter_user is not None:  # as check_permission: Jupyter's say
                verdict = await self.backend.jupyter_allows(ctx.identity, tool.permission, None, ctx.handler)
            if not is_denial(verdict):
                shown.append(tool)
        return shown

    async def _call_tool(self, ctx: ServerRequestContext, params: types.CallToolRequestParams) -> WireResult:
        tool = self.registry.tools.get(params.name)
        tool_ctx = self._context(ctx, tool)
        if tool is None:
            # The 2025-11-25 spec's answer to an unknown tool: a JSON-RPC error, -32602.
            offered = [t.name for t in await self._offered(tool_ctx)]
            raise MCPError(types.INVALID_PARAMS, _not_found("tool", params.name, offered))
        started = time.monotonic()
        path = None  # for events: the argument as given, until normalized

        def outcome() -> dict[str, Any]:
            """What the call's ToolCalled or ToolFailed event says of it (``path`` as it is by then)."""
            return {
                "actor": tool_ctx.identity.username, "session_id": tool_ctx.session_id, "tool": tool.name,
                "pack": tool.pack, "path": path, "duration_ms": _ms_since(started),
            }

        try:
            # Old argument names become new ones here, once: everything after reads only new names.
            arguments = with_new_names(tool.input_model, params.arguments or {}, tool.name)
            raw_path = arguments.get(tool.path_arg) if tool.path_arg else None
            path = raw_path if isinstance(raw_path, str) else None
            args = validate(tool.input_model, arguments, tool.name)
            value = getattr(args, tool.path_arg, None) if tool.path_arg else None  # defaults included
            if value is None and tool.path_is_optional:
                # Left out: the packs may name the caller's current document (checked below as if named).
                value = await self.packs.default_path(tool, tool_ctx)
            if isinstance(value, str):
                # Normalized once, here: the permission is checked on what the tool will touch
                # ("./secret/x" is "secret/x"), and the tool reads the same path as ctx.path.
                path = tool_ctx.path = self.backend.normalize_path(value)
            await self.check_permission(tool_ctx.identity, tool.permission, path, tool.name, tool_ctx.handler)
            try:
                with edits_by(tool_ctx.identity.username):  # the update store records who made each edit
                    output = await self.packs.call_tool(ToolCall(tool=tool, args=args, ctx=tool_ctx, arguments=arguments))
            finally:
                await self.backend.flush_updates()  # what the tool changed survives a crash once it answers
        except ToolError as err:
            await self._emit_quietly(ToolFailed(**outcome(), error=err.message, code=err.code))
            return _error_result(err.message, err.code, err.details)
        except Exception as err:
            log.exception("tool %s failed", tool.name)
            await self._emit_quietly(ToolFailed(**outcome(), error=type(err).__name__, code="internal_error"))
            return _error_result(
                f"Tool {tool.name!r} failed unexpectedly ({type(err).__name__}: {err}). "
                "The server log has the details.",
                "internal_error",
            )
        await self._emit_quietly(ToolCalled(**outcome()))
        return _to_result(output)

    async def _emit_quietly(self, event: Event) -> None:
        try:
            await self.events.emit(event)
        except Exception:
            log.exception("could not emit %s", type(event).event_type)

    async def check_permission(
        self, identity: Identity, permission: str, path: str | None, tool: str, handler: Any = None
    ) -> None:
        """Raise PermissionDenied unless the packs (or Jupyter's Authorizer) allow the call.

        A path is checked as written and, when a symlink leads elsewhere, as the
        file it resolves to: both must be allowed (``work/up.md -> ../top.md``
        does not open ``top.md`` to a caller limited to ``work/``).
        """
        paths = [path]
        if path:
            real = self.backend.real_path(self.backend.normalize_path(path))
            if real != path:
                paths.append(real)
        for checked in paths:
            verdict = await self.packs.authorize(identity, permission, checked, tool, self)
            if verdict is None:
                verdict = await self.backend.jupyter_allows(identity, permission, checked, handler)
            if verdict:
                continue
            where = f" on {path!r}" if path else ""
            if checked != path:  # the target is not named: the caller may not read it
                where += " (a symlink to a file outside what it may reach)"
            if isinstance(verdict, Deny):
                raise PermissionDenied(f"Permission denied: tool {tool!r}{where}: {verdict.reason}")
            raise PermissionDenied(
                f"Permission denied: tool {tool!r} needs the {permission!r} permission{where}, "
                f"which {identity.username!r} does not have."
            )

    # -- prompts and completions ---------------------------------------------------------

    def _build_prompts(self) -> PromptRegistry:
        prompts = PromptRegistry()
        self.packs.collect_prompts(prompts)
        return prompts

    async def _list_prompts(self, ctx: ServerRequestContext, params: Any) -> types.ListPromptsResult:
        self._identity(ctx)
        return types.ListPromptsResult(prompts=[p.mcp_prompt for p in self.prompts.prompts.values()])

    def _prompt(self, name: str) -> Prompt:
        prompt = self.prompts.prompts.get(name)
        if prompt is None:
            raise MCPError(types.INVALID_PARAMS, _not_found("prompt", name, list(self.prompts.prompts)))
        return prompt

    async def _get_prompt(self, ctx: ServerRequestContext, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        tool_ctx = self._context(ctx)
        prompt = self._prompt(params.name)
        try:
            what = f"prompt {prompt.name}"
            args = validate(prompt.args_model, with_new_names(prompt.args_model, params.arguments or {}, what), what)
            path = getattr(args, "path", None)
            if isinstance(path, str):  # a document path, as for tools: normalized and checked once
                tool_ctx.path = self.backend.normalize_path(path)
                await self.check_permission(
                    tool_ctx.identity, "read", tool_ctx.path, f"prompts/get {prompt.name}", tool_ctx.handler
                )
            return await prompt.render(tool_ctx, args)
        except ToolError as err:
            raise MCPError(types.INVALID_PARAMS, err.message) from None

    async def _complete(self, ctx: ServerRequestContext, params: types.CompleteRequestParams) -> types.CompleteResult:
        tool_ctx = self._context(ctx)
        ref, argument = params.ref, params.argument
        templates = list(self.registry.resources.values())
        if isinstance(ref, types.ResourceTemplateReference):
            templates = [t for t in templates if t.uri_template == ref.uri]
            if not templates:
                known = ", ".join(t.uri_template for t in self.registry.resources.values()) or "none"
                raise MCPError(types.INVALID_PARAMS, f"Unknown resource template {ref.uri!r}. Resource templates: {known}.")
        else:
            prompt = self._prompt(ref.name)
            fields = prompt.args_model.model_fields
            if argument.name not in fields:
                raise MCPError(
                    types.INVALID_PARAMS,
                    f"Prompt {prompt.name!r} has no argument {argument.name!r}; its arguments: {', '.join(fields) or 'none'}.",
                )
            templates = [t for t in templates if t.pack == prompt.pack] or templates
        if argument.name != "path":
            return completions.answer([])  # only document paths have values the server can list
        return completions.answer(await completions.readable_paths(self, tool_ctx, templates, argument.value))

    # -- resources -----------------------------------------------------------------------

    async def _list_resources(self, ctx: ServerRequestContext, params: Any) -> types.ListResourcesResult:
        tool_ctx = self._context(ctx)
        resources: list[types.Resource] = []
        for template in self.registry.resources.values():
            for resource in await template.list(tool_ctx):
                path = str(resource.uri).partition("://")[2]
                try:  # list only what the caller may read
                    await self.check_permission(
                        tool_ctx.identity, template.permission, path, "resources/list", tool_ctx.handler
                    )
                except PermissionDenied:
                    continue
                resources.append(resource)
        return types.ListResourcesResult(resources=resources)

    async def _list_resource_templates(self, ctx: ServerRequestContext, params: Any) -> types.ListResourceTemplatesResult:
        self._identity(ctx)
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=t.uri_template, name=t.name, description=t.description, mime_type=t.mime_type
                )
                for t in self.registry.resources.values()
            ]
        )

    def _template_for(self, uri: str) -> tuple[ResourceTemplate, str]:
        scheme, sep, rest = uri.partition("://")
        template = self.registry.resources.get(scheme)
        if not sep or template is None:
            known = ", ".join(t.uri_template for t in self.registry.resources.values()) or "none"
            raise MCPError(RESOURCE_NOT_FOUND, f"Resource not found: {uri!r}. Resource templates: {known}.", {"uri": uri})
        return template, rest

    async def _read_resource(self, ctx: ServerRequestContext, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        tool_ctx = self._context(ctx)
        uri = str(params.uri)
        template, path = self._template_for(uri)
        try:
            path = tool_ctx.path = self.backend.normalize_path(path)  # checked once, as for a tool call
            await self.check_permission(
                tool_ctx.identity, template.permission, path, f"resources/read {uri}", tool_ctx.handler
            )
            content = await template.read(tool_ctx, uri)
        except NotFound as err:
            raise MCPError(RESOURCE_NOT_FOUND, err.message, {"uri": uri}) from None
        except ToolError as err:
            raise MCPError(types.INVALID_PARAMS, err.message) from None
        if isinstance(content, bytes):
            blob = base64.b64encode(content).decode("ascii")
            return types.ReadResourceResult(
                contents=[types.BlobResourceContents(uri=uri, mime_type=template.mime_type, blob=blob)]
            )
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type=template.mime_type, text=content)]
        )

    async def _subscribe(self, ctx: ServerRequestContext, params: types.SubscribeRequestParams) -> types.EmptyResult:
        tool_ctx = self._context(ctx)
        uri = str(params.uri)
        if not well_formed(uri):
            raise MCPError(types.INVALID_PARAMS, f"{uri!r} is not a URI (scheme:rest, e.g. notebook://a.ipynb).")
        template = self.registry.resources.get(uri.partition("://")[0])
        if template is not None:  # who may not read a document is not told when it changes either
            try:
                path = self.backend.normalize_path(uri.partition("://")[2])
                await self.check_permission(
                    tool_ctx.identity, template.permission, path, f"resources/subscribe {uri}", tool_ctx.handler
                )
            except ToolError as err:
                raise MCPError(types.INVALID_PARAMS, err.message) from None
        session = _session_key(ctx)  # a stdio process's one connection has no session id
        if session:
            await self.subscriptions.subscribe(uri, session)
        return types.EmptyResult()

    async def _unsubscribe(self, ctx: ServerRequestContext, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        self._context(ctx)  # the caller's identity, as for every request
        session = _session_key(ctx)
        if session:
            self.subscriptions.unsubscribe(str(params.uri), session)
        return types.EmptyResult()

    async def _document_exists(self, uri: str) -> bool | None:
        """Whether the document a pack-served URI names exists (None: no pack serves it)."""
        scheme, _, rest = uri.partition("://")
        if scheme not in self.registry.resources:
            return None
        try:
            return await self.backend.contents.file_exists(self.backend.normalize_path(rest))
        except ToolError:
            return None

    async def resource_updated(self, uri: str) -> None:
        """Tell subscribed sessions (both protocol revisions) that ``uri`` changed."""
        for session_id in self.subscriptions.subscribers(uri):
            connection = self.connections.get(session_id)
            if connection is not None:
                await connection.send_resource_updated(uri)  # best effort: never raises
        await self.bus.publish(ResourceUpdated(uri=uri))

    async def session_closed(self, session_id: str) -> None:
        self.subscriptions.session_closed(session_id)
        self.connections.pop(session_id, None)
        self.notices.forget(session_id)
        identity = self.session_identities.pop(session_id, None)
        await self.packs.notify("mcp_session_closed", session_id=session_id, identity=identity, host=self)
        self.state.drop(caller_key(session_id, ""))


class _HostImplementation:
    """The host's own hook implementations: the innermost ``call_tool``."""

    def __init__(self, host: Host) -> None:
        self.host = host

    @hookimpl
    def on_event(self, event: Event, host: Any) -> None:
        metrics.record_tool_call(event)

    @hookimpl(trylast=True)
    def call_tool(self, call: ToolCall) -> Any:
        return call.tool.func(call.ctx, call.args)


def _session_key(ctx: ServerRequestContext) -> str | None:
    """The connection's key for notifications outside a request: its MCP session id, or
    :data:`STDIO_SESSION` for a stdio process's one connection (which has no session id)."""
    return session_id_of(ctx) or (STDIO_SESSION if ctx.request is None else None)


def _with_list_changed(get_capabilities: Any) -> Any:
    """Make the handshake-era capabilities advertise ``tools.listChanged``."""

    def get(*args: Any, protocol_version: str | None = None, **kwargs: Any) -> types.ServerCapabilities:
        caps = get_capabilities(*args, protocol_version=protocol_version, **kwargs)
        if protocol_version is None and caps.tools is not None:
            caps.tools.list_changed = True
        return caps

    return get


def _not_found(kind: str, name: str, names: list[str]) -> str:
    """What to tell a caller who named a tool or prompt that does not exist: the nearest names, and all of them."""
    names = sorted(names)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
    return f"Unknown {kind} {name!r}.{hint} Available {kind}s: {', '.join(names) or 'none'}."


# A tools/call result in its wire form. The SDK accepts a plain dict from a handler and
# validates it once; a CallToolResult model would first be dumped, walking the
# structured content one more time (several ms of a 1,000-cell read).
WireResult = dict[str, Any]


def _error_result(message: str, code: str = "invalid_request", details: dict[str, Any] | None = None) -> WireResult:
    return _wire_result([types.TextContent(text=message)], {"error": message, "code": code, **(details or {})}, True)


def _to_result(output: Any) -> WireResult:
    if isinstance(output, BaseModel):
        output = ToolOutput(structured=output)
    if not isinstance(output, ToolOutput):
        raise TypeError(f"a tool must return a pydantic model or ToolOutput, not {type(output).__name__}")
    data = output.structured.model_dump(mode="json")
    # One line: the model reads it as well as an indented one, and it is a third smaller.
    text = output.text if output.text is not None else json.dumps(data, ensure_ascii=False)
    return _wire_result([types.TextContent(text=text), *output.extra], data)


def _wire_result(content: list[types.ContentBlock], structured: dict[str, Any], is_error: bool = False) -> WireResult:
    return {
        "content": [block.model_dump(by_alias=True, mode="json", exclude_none=True) for block in content],
        "structuredContent": structured,
        "isError": is_error,
        "resultType": "complete",  # required from protocol 2026-07-28; older revisions drop it
    }


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 3)
