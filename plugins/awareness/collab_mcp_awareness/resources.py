"""The ``awareness://{path}`` resources: who is in an open document and what happened there.

Presence changes and announcements about a document notify the MCP clients
subscribed to its resource (see ``on_event`` in the pack).
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types

from collab_mcp_core import NotFound, ResourceTemplate

from .hub import hub_for
from .presence import roster
from .rooms import describe, open_rooms, readable_rooms

SCHEME = "awareness"


def uri_of(path: str) -> str:
    return f"{SCHEME}://{path}"


async def list_awareness(ctx: Any) -> list[types.Resource]:
    return [
        types.Resource(uri=uri_of(room.path), name=room.path, mime_type="application/json",
                       description=f"Who is in {room.path} and what happened there")
        for room in await readable_rooms(ctx, f"resources/list {SCHEME}")
    ]


async def read_awareness(ctx: Any, uri: str) -> str:
    path = uri.partition("://")[2]
    room = next((r for r in open_rooms(ctx.backend) if r.path == path), None)
    if room is None:
        readable = await readable_rooms(ctx, f"resources/read {SCHEME}")
        raise NotFound(f"{path!r} is not open in any collaboration session. {describe(readable)}")
    hub = hub_for(ctx.host)
    return json.dumps({
        "path": room.path,
        "document_path": room.path,  # the old name of path, for one release
        "session_id": room.room_id,
        "users": [u.model_dump(mode="json") for u in roster(hub, ctx.backend, [room], server_wide=False)],
        "recent_activity": [e.model_dump(mode="json") for e in hub.activity.recent(path=room.path, limit=20)],
    }, ensure_ascii=False)


AWARENESS = ResourceTemplate(
    scheme=SCHEME,
    name="awareness",
    description="Presence in an open document: its participants (people and agents) and recent activity. "
    "Subscribe to be told when someone joins, leaves, changes status or announces an activity there.",
    mime_type="application/json",
    list=list_awareness,
    read=read_awareness,
)
