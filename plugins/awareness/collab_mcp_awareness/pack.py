"""The awareness pack's hook implementations: its tools, events and lifecycle.

Tools live in modules named for what they hold (presence, sessions, cursors,
activity); presence by default is a wrapper around other packs' calls
(:mod:`~collab_mcp_awareness.auto_presence`); the live state (agents' awareness entries, watched rooms, the
activity log) is the host's :class:`~collab_mcp_awareness.hub.AwarenessHub`.
"""

from __future__ import annotations

from typing import Any

from collab_mcp_core import hookimpl

from . import activity, cursors, presence, prompts, sessions
from .auto_presence import present_during
from .config import AwarenessPack
from .events import EVENTS, PresenceChanged, UserActivity
from .following import follow_edit
from .hub import hub_for, left_event
from .resources import AWARENESS, uri_of


# Awareness tools need only read access to a document: they change who is shown
# where, never the document itself. Those that publish are not read-only hints.
# Their document argument is path: the host checks the permission on it.
TOOLS = (
    presence.get_online_users,
    presence.get_user_presence,
    presence.set_user_presence,
    sessions.get_active_sessions,
    sessions.join_session,
    sessions.leave_session,
    cursors.get_user_cursors,
    cursors.update_cursor_position,
    activity.get_user_activity,
    activity.broadcast_user_activity,
)


@hookimpl
def register_tools(register: Any) -> None:
    for tool in TOOLS:
        register(tool)


@hookimpl
def register_resources(register: Any) -> None:
    register(AWARENESS)


@hookimpl
def register_configurables(register: Any) -> None:
    register(AwarenessPack)


@hookimpl
def register_prompts(register: Any) -> None:
    for prompt in prompts.PROMPTS:
        register(prompt)


@hookimpl
def register_events(register: Any) -> None:
    for event_class in EVENTS:
        register(event_class)


@hookimpl
def host_started(host: Any) -> None:
    hub_for(host).start()


@hookimpl
async def host_stopping(host: Any) -> None:
    await hub_for(host).stop()


@hookimpl
async def mcp_session_closed(session_id: str, identity: Any, host: Any) -> None:
    hub = hub_for(host)
    agent = hub.agents.get(session_id)
    if agent is None:
        return
    rooms = dict(agent.paths)
    hub.close(session_id)  # its states leave every room now, not after a 30-second timeout
    for room_id, path in rooms.items():
        await host.events.emit(left_event(agent, room_id, path, "offline"))


@hookimpl(wrapper=True)
def call_tool(call: Any) -> Any:
    # Every call of another pack's tool that names a document makes its agent present there.
    inner = yield
    if call.tool.pack == "awareness" or not call.ctx.config(AwarenessPack).auto_presence:
        return inner
    return present_during(call, inner)


@hookimpl
async def on_event(event: Any, host: Any) -> None:
    hub = hub_for(host)
    # Calls of this pack's own tools are told by their own events (presence_changed,
    # user_activity); logging the calls too would bury them.
    if getattr(event, "pack", None) != "awareness":
        author = hub.author(event) if event.actor else None
        hub.activity.add(event, *((author.name, author.user_id) if author else ()))
    if event.actor:
        hub.touch_author(event)
        if host.config(AwarenessPack).follow_edits:
            follow_edit(hub, event)
    path = getattr(event, "path", None)
    if isinstance(event, (PresenceChanged, UserActivity)) and path:
        await host.resource_updated(uri_of(path))  # subscribed MCP clients hear about it
