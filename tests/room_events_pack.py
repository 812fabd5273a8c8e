"""A pack the room-event tests load with ``--CollabMCP.extra_packs=room_events_pack``.

It subscribes to the backend's room events when the host starts, as any pack
would, and its one tool tells what it heard, so a test can check that a pack
receives opened, joined, left and closed from real rooms.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import RoomEvent, hookimpl, tool

HEARD: list[dict[str, Any]] = []


def _heard(event: RoomEvent) -> None:
    HEARD.append({"change": event.change, "room_id": event.room_id, "path": event.path,
                  "username": (event.user or {}).get("username")})


@hookimpl
def host_started(host: Any) -> None:
    host.backend.room_events.subscribe(_heard)


class HeardArgs(BaseModel):
    path: str = Field(description="Only the events of this document's room.")


class Heard(BaseModel):
    events: list[dict[str, Any]]


@tool(permission="read")
async def room_events_heard(ctx: Any, args: HeardArgs) -> Heard:
    """The room events this pack heard about one document, in order."""
    return Heard(events=[e for e in HEARD if e["path"] == ctx.path])


@hookimpl
def register_tools(register: Any) -> None:
    register(room_events_heard)
