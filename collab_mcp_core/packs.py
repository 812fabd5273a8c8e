"""Loading packs: a pluggy PluginManager fed from entry points, behind a typed facade.

The rest of the host calls :class:`PackManager` methods, never ``pm.hook.*``
by name. A disabled pack is blocked before entry points load, so its module is
never imported.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy
from importlib_metadata import entry_points

from . import hookspecs
from .awaiting import await_maybe
from .decisions import Deny, Verdict, is_denial
from .errors import RegistrationError
from .hookspecs import ENTRY_POINT_GROUP, PROJECT

if TYPE_CHECKING:
    from .context import HostServices as Host
    from .context import ToolContext
    from .events import Event
    from .identity import Identity
    from .prompts import PromptRegistry
    from .registry import Tool, ToolCall, ToolRegistry
    from .tools import ToolOutput

log = logging.getLogger(__name__)
HOST_PLUGIN = "collab_mcp_core"  # the host's own hook implementations, registered under this name


@dataclass
class PackInfo:
    """One installed pack, as ``collab-mcp packs`` lists it."""

    name: str
    distribution: str | None
    version: str | None
    enabled: bool
    module: str
    hooks: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)


class PackManager:
    """Finds, blocks, loads and calls packs."""

    def __init__(self, enabled: Iterable[str] | None = None, disabled: Iterable[str] = ()) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.enabled = set(enabled) if enabled else None  # None: every installed pack
        self.disabled = set(disabled)
        self.installed: dict[str, PackInfo] = {}

    def is_enabled(self, name: str) -> bool:
        return name not in self.disabled and (self.enabled is None or name in self.enabled)

    def load_entry_points(self) -> None:
        """Block disabled packs, then load the rest from the ``collab_mcp.packs`` group."""
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist
            self.installed[ep.name] = PackInfo(
                name=ep.name,
                distribution=dist.name if dist else None,
                version=dist.version if dist else None,
                enabled=self.is_enabled(ep.name),
                module=ep.value,
            )
            if not self.is_enabled(ep.name):
                self.pm.set_blocked(ep.name)
        # pluggy skips blocked names without importing them.
        self.pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        self.pm.check_pending()
        for name, info in self.installed.items():
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])

    def misnamed(self, allowed_tools: Iterable[str], denied_tools: Iterable[str]) -> list[str]:
        """One message per setting that names a pack or tool that does not exist, listing the valid names.

        Call it once every pack is registered and ``collect_tools`` ran. A misspelt
        name would otherwise do nothing, silently (``denied_tools=execute_cod``
        leaves ``execute_code`` callable). Tools are known only for the packs that
        load: the tools of a disabled pack cannot be named.
        """
        packs = sorted(name for name in self.installed if name != HOST_PLUGIN)
        tools = sorted({tool for info in self.installed.values() for tool in info.tools})
        problems = []
        for setting, given, valid, missing, listing in (
            ("enabled_packs", self.enabled or (), packs, "no installed pack is", "Installed packs"),
            ("disabled_packs", self.disabled, packs, "no installed pack is", "Installed packs"),
            ("allowed_tools", allowed_tools, tools, "no enabled pack offers a tool", "Tools of the enabled packs"),
            ("denied_tools", denied_tools, tools, "no enabled pack offers a tool", "Tools of the enabled packs"),
        ):
            unknown = sorted(set(given) - set(valid))
            if unknown:
                problems.append(
                    f"CollabMCP.{setting}: {missing} named {', '.join(map(repr, unknown))}. "
                    f"{listing}: {', '.join(valid) or 'none'}."
                )
        return problems

    def register(self, plugin: object, name: str) -> None:
        """Register a pack object directly (tests, embedding)."""
        self.pm.register(plugin, name=name)
        self.installed.setdefault(name, PackInfo(name, None, None, True, getattr(plugin, "__name__", repr(plugin))))

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin, name=name)
        self.installed.pop(name, None)

    # -- the typed facade over pm.hook -------------------------------------------------

    def _each(self, hook_name: str) -> list[tuple[str, Callable[..., Any]]]:
        """(pack name, implementation) for every implementation of a hook, in call order."""
        caller = getattr(self.pm.hook, hook_name)
        return [(impl.plugin_name, impl.function) for impl in reversed(caller.get_hookimpls())]

    def collect_tools(self, registry: ToolRegistry) -> None:
        for pack, impl in self._each("register_tools"):
            impl(register=_tool_register(registry, pack))
            self.installed.get(pack, PackInfo(pack, None, None, True, "")).tools = sorted(
                t.name for t in registry.tools.values() if t.pack == pack
            )
        for pack, impl in self._each("register_resources"):
            impl(register=_bind(registry.register_resource, pack))

    def collect_prompts(self, registry: PromptRegistry) -> None:
        for pack, impl in self._each("register_prompts"):
            impl(register=_bind(registry.register_prompt, pack))

    def collect_configurables(self) -> list[type]:
        found: list[type] = []
        for _pack, impl in self._each("register_configurables"):
            impl(register=found.append)
        return found

    def collect_events(self, register: Callable[[type[Event]], None]) -> None:
        for _pack, impl in self._each("register_events"):
            impl(register=register)

    async def identify_request(self, request: Any, host: Host) -> Identity | None:
        for _pack, impl in self._each("identify_request"):
            identity = await await_maybe(impl(request=request, host=host))
            if identity is not None:
                return identity
        return None

    async def protected_resource_metadata(self, resource: str, host: Host) -> dict[str, Any] | None:
        for _pack, impl in self._each("protected_resource_metadata"):
            answer = await await_maybe(impl(resource=resource, host=host))
            if answer is not None:
                return answer
        return None

    async def default_path(self, tool: Tool, ctx: ToolContext) -> str | None:
        for _pack, impl in self._each("default_path"):
            path = await await_maybe(impl(tool=tool, ctx=ctx))
            if path is not None:
                return path
        return None

    async def authorize(self, identity: Identity, permission: str, path: str | None, tool: str, host: Host) -> Verdict:
        """A denial (False or the first Deny) if any pack denies; True if some pack allows; None if all abstain."""
        return await self._deny_wins("authorize", identity=identity, permission=permission, path=path, tool=tool, host=host)

    async def tool_visible(self, identity: Identity, tool: Tool, host: Host) -> Verdict:
        """A denial if any pack hides the tool; True if some pack shows it and none hides; None if all abstain."""
        return await self._deny_wins("tool_visible", identity=identity, tool=tool, host=host)

    async def _deny_wins(self, hook: str, **kwargs: Any) -> Verdict:
        verdict: Verdict = None
        for _pack, impl in self._each(hook):
            answer = await await_maybe(impl(**kwargs))
            if is_denial(answer):
                return answer if isinstance(answer, Deny) else False
            if answer is True:
                verdict = True
        return verdict

    def on_event(self, event: Event, host: Host) -> list[Any]:
        """Call every listener, isolating failures; returns what needs awaiting."""
        pending = []
        for pack, impl in self._each("on_event"):
            try:
                result = impl(event=event, host=host)
            except Exception:
                log.exception("pack %s failed in on_event(%s)", pack, type(event).event_type)
                continue
            if inspect.isawaitable(result):
                pending.append(result)
        return pending

    def call_tool(self, call: ToolCall) -> Awaitable[ToolOutput]:
        return self.pm.hook.call_tool(call=call)

    async def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook (host_started, host_stopping, mcp_session_closed) on every pack."""
        for pack, impl in self._each(hook_name):
            try:
                await await_maybe(impl(**kwargs))
            except Exception:
                log.exception("pack %s failed in %s", pack, hook_name)


def _tool_register(registry: ToolRegistry, pack: str) -> Callable[..., Any]:
    """The ``register`` a pack's ``register_tools`` gets: one ``@tool`` function per call."""

    def register(func: Callable[..., Any], **options: Any) -> Tool:
        if options:  # the old register(func, permission=...) style: the facts belong on the tool
            name = getattr(func, "__name__", repr(func))
            raise RegistrationError(
                f"tool {name!r} of pack {pack!r}: register() takes only the tool; declare "
                f"{', '.join(sorted(options))} on it with @tool(...) from collab_mcp_core"
            )
        return registry.register_tool(func, pack=pack)

    return register


def _bind(register: Callable[..., Any], pack: str) -> Callable[..., Any]:
    def register_for_pack(*args: Any, **kwargs: Any) -> Any:
        return register(*args, pack=pack, **kwargs)

    return register_for_pack
