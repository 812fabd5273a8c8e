"""Session tools: collaboration sessions are the open rooms; joining makes the agent a participant."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import NotFound, ToolError, tool

from .events import PresenceChanged
from .hub import Agent, AwarenessHub, Seat, hub_for
from .presence import OnlineUser, roster
from .rooms import OLD_PATH, NamesPath, OpenRoom, open_rooms, readable_rooms, room_by_id, room_for_path


class Session(NamesPath):
    """An open collaboration session (a document's room)."""

    session_id: str = Field(description="The room id; pass it to join_session / leave_session.")
    path: str
    kind: str = Field(description="notebook or file.")
    participants: list[OnlineUser]
    participant_count: int
    joined: bool = Field(description="Whether you (this MCP session) are a participant.")


def session_of(ctx: Any, room: OpenRoom) -> Session:
    hub = hub_for(ctx.host)
    people = roster(hub, ctx.backend, [room], server_wide=False)
    agent = hub.agents.get(hub.key_of(ctx))
    return Session(
        session_id=room.room_id, path=room.path, kind=room.kind, participants=people,
        participant_count=len(people), joined=agent is not None and room.room_id in agent.seats,
    )


class ActiveSessionsArgs(BaseModel):
    path: str | None = Field(None, validation_alias=OLD_PATH, description="Only the session of this document; omit for all.")


class ActiveSessions(BaseModel):
    sessions: list[Session]
    count: int
    current_notebook: str | None = Field(
        None, description="Your MCP session's current notebook (create_notebook_session sets it), if any."
    )


@tool(permission="read", title="Open collaboration sessions")
async def get_active_sessions(ctx: Any, args: ActiveSessionsArgs) -> ActiveSessions:
    """List open collaboration sessions (one per open document) with session_id, document and participants.

    Also says your current notebook; join_session joins a session without touching its document.
    """
    hub_for(ctx.host).touch(ctx)
    if args.path:
        rooms = [await room_for_path(ctx)]
    else:
        rooms = await readable_rooms(ctx, "get_active_sessions")  # others' documents are not even named
    sessions = [session_of(ctx, room) for room in rooms]
    # The notebook pack keeps it in its state for this caller (collab_mcp_notebook.current_notebook).
    current = ctx.host.state.of(ctx.caller, "notebook").get("current_notebook")
    return ActiveSessions(sessions=sessions, count=len(sessions), current_notebook=current)


class SessionArgs(BaseModel):
    session_id: str = Field(description="A session_id from get_active_sessions.")


class JoinedSession(BaseModel):
    session: Session
    already_joined: bool
    client_id: int = Field(description="Your awareness client id in this session.")


@tool(permission="read", read_only=False, idempotent=True, title="Join a session")
async def join_session(ctx: Any, args: SessionArgs) -> JoinedSession:
    """Join a collaboration session: you become a participant of the document's room, and people
    who have it open in JupyterLab see you (name, colour, status, and your cursor once you set it
    with update_cursor_position). Joining a session you are in already changes nothing."""
    room = await room_by_id(ctx, args.session_id)  # only rooms the caller may read
    hub = hub_for(ctx.host)
    agent = hub.agent(ctx)
    joined = room.room_id not in agent.seats
    seat = await join_seat(ctx, hub, agent, room)
    return JoinedSession(session=session_of(ctx, room), already_joined=not joined, client_id=seat.client_id)


async def join_seat(ctx: Any, hub: AwarenessHub, agent: Agent, room: OpenRoom) -> Seat:
    """Seat the agent in a room, telling everyone (an event) when it is new there."""
    seat, joined = hub.join(agent, room.room_id, room.room, room.path)
    if joined:
        await ctx.emit(
            PresenceChanged(
                change="joined", user_id=agent.user_id, display_name=agent.name,
                is_agent=True, status=agent.status, message=agent.message, path=room.path, session_id=room.room_id,
            )
        )
    return seat


class LeftSession(NamesPath):
    session_id: str
    path: str | None
    left: bool
    remaining_sessions: list[str]


@tool(permission="read", read_only=False, idempotent=False, title="Leave a session")
async def leave_session(ctx: Any, args: SessionArgs) -> LeftSession:
    """Leave a collaboration session you joined: your presence and cursor disappear from it at once."""
    hub = hub_for(ctx.host)
    agent = hub.agents.get(hub.key_of(ctx))
    joined = sorted(agent.seats) if agent else []
    if args.session_id not in joined:
        if not any(r.room_id == args.session_id for r in open_rooms(ctx.backend)):
            raise NotFound(f"No collaboration session {args.session_id!r}. Sessions you joined: {', '.join(joined) or 'none'}.")
        raise ToolError(
            f"You have not joined session {args.session_id!r}, so there is nothing to leave. "
            f"Sessions you joined: {', '.join(joined) or 'none'}."
        )
    assert agent is not None
    path = agent.paths.get(args.session_id)
    hub.leave(agent, args.session_id)
    hub.touch(ctx)
    await ctx.emit(
        PresenceChanged(
            change="left", user_id=agent.user_id, display_name=agent.name,
            is_agent=True, status=agent.status, message=agent.message, path=path, session_id=args.session_id,
        )
    )
    return LeftSession(session_id=args.session_id, path=path, left=True, remaining_sessions=sorted(agent.seats))
