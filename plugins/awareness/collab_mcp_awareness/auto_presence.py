"""Presence by default: an agent is present in every document it reads, edits or runs.

The pack wraps every call of another pack's tool (``call_tool``): before the
call, and again after it if the document had no open room before (the call may
have opened it, or found its document in the caller's session context), the calling MCP session's agent
takes a seat in the room of the document the call named (``ctx.path``), with
no extra call. It leaves when its MCP session ends, or after
``c.AwarenessPack.presence_idle_timeout`` seconds without a call; a call that
is still running (a long execution) keeps it present. Switch:
``c.AwarenessPack.auto_presence``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from .config import AwarenessPack
from .following import follow_cell
from .hub import AwarenessHub, hub_for
from .rooms import room_at
from .sessions import join_seat

log = logging.getLogger(__name__)


async def present_during(call: Any, run: Awaitable[Any]) -> Any:
    """Run a tool call with its agent present in the call's document (before and after)."""
    ctx = call.ctx
    hub = hub_for(ctx.host)
    key = hub.key_of(ctx)
    cell_id = getattr(call.args, "cell_id", None)
    path = ctx.path
    seated = await _enter(hub, ctx, cell_id if isinstance(cell_id, str) else None)
    hub.calls[key] = hub.calls.get(key, 0) + 1
    try:
        return await run
    finally:
        hub.calls[key] -= 1
        if not hub.calls[key]:
            del hub.calls[key]
        if not seated or ctx.path != path:  # the call opened the room, or found its document itself
            await _enter(hub, ctx, None)


async def _enter(hub: AwarenessHub, ctx: Any, cell_id: str | None) -> bool:
    """Seat the caller's agent in the open room of ``ctx.path``, if there is one (never fails the call).

    Returns whether it is seated there.
    """
    try:
        if not ctx.path:
            return False
        room_id = _seated_in(hub, ctx)
        if room_id is None:  # not seated there yet: is the document's room open?
            room = room_at(ctx.backend, ctx.path)
            if room is None:
                return False
            room_id = room.room_id
            await join_seat(ctx, hub, hub.agent(ctx), room)
        agent = hub.agent(ctx)
        if agent.current != ctx.path:
            agent.current = ctx.path
            hub.sync_global(agent)
        if cell_id and ctx.config(AwarenessPack).follow_edits:
            follow_cell(hub, agent, room_id, cell_id)
        return True
    except Exception:
        log.exception("could not make the agent present in %s", ctx.path)
        return False


def _seated_in(hub: AwarenessHub, ctx: Any) -> str | None:
    """The room of ``ctx.path`` the caller's agent sits in, if that room is still open (no file id lookup)."""
    agent = hub.agents.get(hub.key_of(ctx))
    if agent is None:
        return None
    for room_id, path in agent.paths.items():
        if path == ctx.path:
            seat = agent.seats.get(room_id)
            return room_id if seat is not None and ctx.backend.find_room(room_id) is seat.room else None
    return None
