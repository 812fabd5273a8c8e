"""Presence tools: who is online, in which documents, with which status."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from collab_mcp_core import NotFound, tool

from .config import AwarenessPack
from .events import PresenceChanged
from .hub import Agent, AwarenessHub, hub_for, now_iso
from .rooms import GLOBAL_AWARENESS, OLD_PATH, NamesPath, OpenRoom, all_rooms, readable_rooms, room_for_path

Status = Literal["online", "away", "busy", "offline"]


class OnlineUser(BaseModel):
    """A person or an agent connected to the server."""

    user_id: str = Field(
        description="The Jupyter username; for an agent, its user's then '/' and its MCP session's first 8 characters "
        "(each session is its own collaborator)."
    )
    display_name: str
    initials: str | None = None
    color: str | None = None
    is_agent: bool
    status: str = Field(description="online, away, busy or offline.")
    status_message: str | None = None
    documents: list[str] = Field(description="Documents they have open (paths).")
    sessions: list[str] = Field(description="Their collaboration sessions (room ids).")
    last_activity: str | None = Field(None, description="When they last did something visible (ISO 8601, UTC).")


def roster(hub: AwarenessHub, backend: Any, rooms: list[OpenRoom], *, server_wide: bool) -> list[OnlineUser]:
    """Everyone in these rooms' awareness; ``server_wide`` adds people in JupyterLab outside any
    document and this server's agents wherever they are."""
    users: dict[str, OnlineUser] = {}
    activity: dict[str, float] = {}
    for room in rooms:
        # Without any websocket client left, remaining human states are ghosts waiting to time out.
        has_clients = bool(getattr(room.room, "clients", None))
        for client_id, state in list(room.room.awareness.states.items()):
            agent = hub.agent_of_client(room.room_id, client_id)
            user = (state or {}).get("user")
            if not isinstance(user, dict) or (agent is None and not has_clients):
                continue
            entry = _entry(users, user, agent, state)
            entry.documents.append(room.path)
            entry.sessions.append(room.room_id)
            when = hub.last_change.get((room.room_id, client_id))
            if agent is None and when is not None:
                activity[entry.user_id] = max(when, activity.get(entry.user_id, 0.0))
    if server_wide:
        global_room = all_rooms(backend).get(GLOBAL_AWARENESS)
        if global_room is not None and getattr(global_room, "clients", None):
            for client_id, state in list(global_room.awareness.states.items()):
                user = (state or {}).get("user")
                if isinstance(user, dict) and hub.agent_of_client(GLOBAL_AWARENESS, client_id) is None:
                    _entry(users, user, None, state)  # in JupyterLab, perhaps in no document
        for agent in hub.agents.values():
            if agent.visible:
                _entry(users, agent.user(), agent, {})
    for user_id, when in activity.items():
        users[user_id].last_activity = now_iso(when)
    for entry in users.values():
        entry.documents = sorted(set(entry.documents))
        entry.sessions = sorted(set(entry.sessions))
    return sorted(users.values(), key=lambda u: (u.is_agent, u.user_id))


def _entry(users: dict[str, OnlineUser], user: dict[str, Any], agent: Agent | None, state: dict[str, Any]) -> OnlineUser:
    user_id = str(user.get("username") or user.get("name") or "unknown")
    entry = users.get(user_id)
    if entry is None:
        marker = state.get("agent") if isinstance(state.get("agent"), dict) else None
        entry = users[user_id] = OnlineUser(
            user_id=user_id,
            display_name=str(user.get("display_name") or user.get("name") or user_id),
            initials=user.get("initials"),
            color=user.get("color"),
            is_agent=agent is not None or marker is not None,
            status=agent.status if agent else str((marker or {}).get("status") or "online"),
            status_message=agent.message if agent else (marker or {}).get("message"),
            documents=[],
            sessions=[],
            last_activity=now_iso(agent.last_activity) if agent else None,
        )
    return entry


class OnlineUsersArgs(BaseModel):
    path: str | None = Field(None, validation_alias=OLD_PATH, description="Only the people in this document.")


class OnlineUsers(NamesPath):
    path: str | None = None
    users: list[OnlineUser]
    count: int


@tool(permission="read", title="Who is online")
async def get_online_users(ctx: Any, args: OnlineUsersArgs) -> OnlineUsers:
    """List who is connected now, people and agents (is_agent): user_id, name, status, open documents, last activity.

    path narrows it to one open document.
    """
    hub = hub_for(ctx.host)
    hub.touch(ctx)
    room = await room_for_path(ctx) if args.path else None
    rooms = [room] if room else await readable_rooms(ctx, "get_online_users")
    users = roster(hub, ctx.backend, rooms, server_wide=room is None)
    return OnlineUsers(path=room.path if room else None, users=users, count=len(users))


class UserPresenceArgs(BaseModel):
    user_id: str = Field(description="A user_id from get_online_users.")
    path: str | None = Field(None, validation_alias=OLD_PATH, description="Only their presence in this open document.")


class UserPresence(OnlineUser, NamesPath):
    path: str | None = None


@tool(permission="read", title="A user's presence")
async def get_user_presence(ctx: Any, args: UserPresenceArgs) -> UserPresence:
    """Get one person's or agent's presence: status, status message, last activity and the documents they are in."""
    hub = hub_for(ctx.host)
    room = await room_for_path(ctx) if args.path else None
    rooms = [room] if room else await readable_rooms(ctx, "get_user_presence")
    present = roster(hub, ctx.backend, rooms, server_wide=room is None)
    for user in present:
        if user.user_id == args.user_id:
            return UserPresence(**user.model_dump(), path=room.path if room else None)
    for agent in hub.agents.values():
        if agent.user_id == args.user_id and not agent.visible and room is None:
            return UserPresence(
                user_id=args.user_id, display_name=agent.name, is_agent=True, status="offline",
                status_message=agent.message, documents=[], sessions=[], last_activity=now_iso(agent.last_activity),
            )
    where = f" in {room.path!r}" if room else ""
    listed = ", ".join(u.user_id for u in present) or "nobody"
    raise NotFound(f"No user {args.user_id!r} is online{where}. Online{where}: {listed}.")


class SetPresenceArgs(BaseModel):
    status: Status = "online"
    message: str | None = Field(None, max_length=200, description="A short status message others see.")


class AgentPresence(BaseModel):
    user_id: str
    display_name: str
    color: str
    status: str
    status_message: str | None
    sessions: list[str] = Field(description="The sessions (room ids) your presence is published in.")
    documents: list[str]
    note: str | None = Field(None, description="Where your presence is not shown yet, and when it will be.")


def presence_of(agent: Agent, auto_presence: bool = True) -> AgentPresence:
    user = agent.user()
    note = None
    if not agent.seats:
        later = (
            "it is kept and shown in every document you read, edit or run from now on"
            if auto_presence else "it is kept and shown in the sessions you join with join_session"
        )
        note = f"You are in no document yet, so nobody sees this status now: {later}."
    return AgentPresence(
        user_id=agent.user_id, display_name=user["display_name"], color=user["color"],
        status=agent.status, status_message=agent.message, sessions=sorted(agent.seats),
        documents=sorted(set(agent.paths.values())), note=note,
    )


@tool(permission="read", read_only=False, idempotent=True, title="Set my presence")
async def set_user_presence(ctx: Any, args: SetPresenceArgs) -> AgentPresence:
    """Set your status and message for every document you are in or enter (you are in each one you read, edit or run).

    People in JupyterLab see you unless offline; the status and message reach other agents and Jupyter's event bus.
    """
    hub = hub_for(ctx.host)
    agent = hub.agent(ctx)
    agent.status, agent.message = args.status, args.message
    hub.publish_all(agent)
    await ctx.emit(
        PresenceChanged(
            change="status", user_id=agent.user_id, display_name=agent.name,
            is_agent=True, status=agent.status, message=agent.message,
        )
    )
    return presence_of(agent, ctx.config(AwarenessPack).auto_presence)
