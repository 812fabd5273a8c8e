"""Every hook a collab-mcp pack can implement.

This module is the whole plugin API surface and nothing else. Each hook says
when the host calls it, what it gets and what it may return. A hook may return
its value directly or as an awaitable; the host awaits what needs awaiting
(see :func:`collab_mcp_core.await_maybe`). Hooks that get ``host`` get the
host's services (:class:`collab_mcp_core.HostServices`): ``host.config(Cls)``,
``host.emit(event)``, ``host.backend``...

Implement hooks with ``collab_mcp_core.hookimpl`` and publish the module or
object under the ``collab_mcp.packs`` entry-point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .context import HostServices as Host
    from .context import ToolContext
    from .decisions import Verdict
    from .events import Event
    from .identity import Identity
    from .registry import Tool, ToolCall
    from .tools import ToolOutput

PROJECT = "collab_mcp"
ENTRY_POINT_GROUP = "collab_mcp.packs"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_tools(register: Callable[..., Any]) -> None:
    """Add this pack's tools.

    Called once when the host builds its tool registry (at start-up, and again
    whenever the set of packs changes). Call ``register(func)`` once per tool,
    each declared with :func:`collab_mcp_core.tool` (permission, name, title,
    annotations, path argument). The host records which pack gave each tool and
    refuses (RegistrationError, stopping the server) a tool without a
    permission or a name another pack already registered.
    """


@hookspec
def register_resources(register: Callable[..., Any]) -> None:
    """Add MCP resource templates (for example ``notebook://{path}``).

    Called when the host builds its registry. Call
    ``register(ResourceTemplate(...))`` once per URI scheme.
    """


@hookspec
def register_prompts(register: Callable[..., Any]) -> None:
    """Add MCP prompts: ready-made requests that put the pack's tools to work.

    Called once when the host builds its registry. Call ``register(func,
    name=None, title=None)`` once per prompt; ``func`` is ``async def
    name(ctx: ToolContext, args: Model) -> str`` (or a list of MCP
    ``PromptMessage``): its docstring is the description clients show, the
    fields of ``Model`` (strings) are the prompt's arguments, and an argument
    named ``path`` is normalized, checked for ``read`` and completed from the
    pack's resources. The host refuses a name another pack already registered.
    """


@hookspec
def register_configurables(register: Callable[[type], None]) -> None:
    """Declare the pack's own traitlets ``Configurable`` classes.

    Called once at start-up. ``register(NotebookPack)`` makes
    ``c.NotebookPack.execution_timeout = 60`` configure the instance that tools
    get from ``ctx.config(NotebookPack)``.
    """


@hookspec
def register_events(register: Callable[[type[Event]], None]) -> None:
    """Declare the event types this pack emits.

    Called once at start-up. Each class is a subclass of
    :class:`collab_mcp_core.events.Event`; its JSON schema is registered with
    Jupyter's event bus so other extensions can listen.
    """


@hookspec(firstresult=True)
def identify_request(request: Any, host: Host) -> Identity | None | Awaitable[Identity | None]:
    """Say who is calling, or ``None`` to let another pack decide.

    Called for every HTTP request to the MCP endpoint, before anything else.
    ``request`` is the Tornado handler (``request.request`` is the HTTP request,
    ``request.current_user`` the user Jupyter's own authentication found,
    ``request.endpoint_url`` the endpoint's URL as the client reached it).
    The first non-None answer wins. When no pack answers, the request is
    refused with 401: the host fails closed.
    """


@hookspec(firstresult=True)
def protected_resource_metadata(resource: str, host: Host) -> dict[str, Any] | None:
    """The RFC 9728 protected-resource metadata of the MCP endpoint, or None.

    Called for ``GET {base_url}.well-known/oauth-protected-resource/{endpoint}``
    (and the RFC's ``/.well-known/oauth-protected-resource{base_url}{endpoint}``),
    and before a 401, which advertises that document only when a pack answers.
    ``resource`` is the endpoint's URL. A pack that accepts tokens from an
    authorization server (JWT) returns at least ``{"resource": resource,
    "authorization_servers": [issuer]}``; with no answer the document is 404.
    The first non-None answer wins.
    """


@hookspec(firstresult=True)
def default_path(tool: Tool, ctx: ToolContext) -> str | None | Awaitable[str | None]:
    """Name the document a call is about when the caller left its path argument out, or None.

    Called for a call of ``tool`` whose path argument (``tool.path_arg``) is
    optional (its default is None) and was omitted, before the permission
    check. Answer for your own tools only, typically with the caller's current
    document, kept in ``ctx.state`` by an earlier call (the notebook pack's
    ``create_notebook_session``). The host normalizes the answer, checks the
    tool's permission on it as if the caller had named it, and hands it to the
    tool as ``ctx.path``. The first non-None answer wins; with none,
    ``ctx.path`` stays None and the tool says what is missing.
    """


@hookspec
def authorize(
    identity: Identity, permission: str, path: str | None, tool: str, host: Host
) -> Verdict | Awaitable[Verdict]:
    """Decide whether ``identity`` may use ``tool`` (needing ``permission``) on ``path``.

    Called before every tool call. ``permission`` is one of ``read``, ``write``,
    ``execute``, ``admin``; ``path`` is the document the call names (normalized),
    or None. Return ``Deny("reason")`` (or False) to deny, True to allow, None
    to abstain. Any denial wins; the caller's error carries the first Deny's
    reason. When every pack abstains, Jupyter's own ``Authorizer`` decides, so
    an operator's existing Jupyter policy governs MCP too.
    """


@hookspec
def tool_visible(identity: Identity, tool: Tool, host: Host) -> Verdict | Awaitable[Verdict]:
    """Decide whether ``tools/list`` offers ``tool`` to ``identity``.

    Called for each tool on every ``tools/list``. Return False when the
    identity could not call the tool on any path (a model offered tools it
    will be refused wastes its calls), True to show it, None to abstain. Any
    False hides. When every pack abstains, a Jupyter identity sees the tools
    whose permission Jupyter's Authorizer grants it, any other identity every
    tool. Hiding is a courtesy, not the control: ``authorize`` decides each call.
    """


@hookspec
def on_event(event: Event, host: Host) -> None | Awaitable[None]:
    """Listen to every event the host and the packs emit.

    Called once per event, after it was sent to Jupyter's event bus. Listeners
    may be async; a listener that raises is logged and does not stop others.
    """


@hookspec(firstresult=True)
def call_tool(call: ToolCall) -> Awaitable[ToolOutput] | None:
    """Run a tool call; implement it as a wrapper for cross-cutting policy.

    The host's own implementation (the innermost one) returns an awaitable
    that runs the tool. A pack wraps it with ``@hookimpl(wrapper=True)``::

        @hookimpl(wrapper=True)
        def call_tool(call):
            check_rate_limit(call.identity)   # raise ToolError to refuse
            inner = yield                     # the awaitable of the call
            async def timed():
                started = time.monotonic()
                try:
                    return await inner
                finally:
                    record(call.tool.name, time.monotonic() - started)
            return timed()

    Raise :class:`collab_mcp_core.errors.ToolError` to refuse with a message
    the model reads.
    """


@hookspec
def host_started(host: Host) -> None | Awaitable[None]:
    """The host is serving: start background work (observers, cleaners).

    Called once, after the MCP session manager runs.
    """


@hookspec
def host_stopping(host: Host) -> None | Awaitable[None]:
    """The Jupyter server is stopping: stop background work.

    Called once, before the MCP session manager stops.
    """


@hookspec
def mcp_session_closed(session_id: str, identity: Identity | None, host: Host) -> None | Awaitable[None]:
    """An MCP session ended (client DELETE, idle timeout or server stop).

    Called once per stateful session, so packs can drop what they published
    for it (the agent's awareness state, for instance).
    """
