"""Activity tools: what happened recently, and announcing what the agent is doing."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import ToolError, tool

from .activity_log import ActivityEntry, entry_of
from .events import UserActivity
from .hub import hub_for
from .rooms import OLD_PATH, NamesPath

METADATA_LIMIT = 4000  # characters of JSON: an announcement, not a data channel


class ActivityArgs(BaseModel):
    path: str | None = Field(None, validation_alias=OLD_PATH, description="Only activity about this document; omit for all.")
    limit: int = Field(20, ge=1, le=200, description="Most entries to return.")


class RecentActivity(NamesPath):
    path: str | None
    entries: list[ActivityEntry]
    count: int


@tool(permission="read", title="Recent activity")
async def get_user_activity(ctx: Any, args: ActivityArgs) -> RecentActivity:
    """Recent activity, newest first: joins and leaves, status changes, tool calls and announcements, each with who and when."""
    path = ctx.path or None  # normalized; the host checked the caller may read it
    hub = hub_for(ctx.host)
    hub.touch(ctx)
    entries = hub.activity.recent(path=path, limit=args.limit)
    return RecentActivity(path=path, entries=entries, count=len(entries))


class BroadcastArgs(BaseModel):
    activity_type: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$",
        description="A short kind, e.g. 'analysis_started'.",
    )
    description: str = Field(min_length=1, max_length=500, description="What you are doing, for people to read.")
    path: str | None = Field(None, validation_alias=OLD_PATH, description="The document it is about, if any.")
    metadata: dict[str, Any] | None = Field(None, description="Small JSON details (up to 4000 characters).")


@tool(permission="read", read_only=False, title="Announce an activity")
async def broadcast_user_activity(ctx: Any, args: BroadcastArgs) -> ActivityEntry:
    """Announce what you are doing to other agents (get_user_activity), awareness:// subscribers and Jupyter's event bus.

    JupyterLab does not show it to people: they see you in the documents you work in.
    """
    path = None
    if args.path:
        path = await ctx.backend.check_file(ctx.path or "", kind="document")  # the host checked "read"
    metadata = args.metadata or {}
    size = len(json.dumps(metadata, ensure_ascii=False, default=str))
    if size > METADATA_LIMIT:
        raise ToolError(f"metadata is {size} characters of JSON; keep it under {METADATA_LIMIT}.")
    agent = hub_for(ctx.host).agent(ctx)
    event = UserActivity(activity_type=args.activity_type, description=args.description, path=path, metadata=metadata)
    await ctx.emit(event)
    return entry_of(event, agent.name, agent.user_id)
