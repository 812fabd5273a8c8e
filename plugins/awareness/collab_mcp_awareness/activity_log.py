"""A bounded log of recent activity, built from every event the host and the packs emit."""

from __future__ import annotations

from collections import deque
from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import Event

# Fields every event has, or that the description already says.
_PLAIN_FIELDS = {"actor", "timestamp"}


class ActivityEntry(BaseModel):
    """One thing that happened."""

    timestamp: str = Field(description="When (ISO 8601, UTC).")
    activity_type: str = Field(description="The event type (tool_called, presence_changed, user_activity...).")
    user_id: str | None = Field(None, description="Who did it (Jupyter username), if known.")
    path: str | None = Field(None, description="The document it concerns, if any.")
    description: str
    details: dict[str, Any] = Field(default_factory=dict)


class ActivityLog:
    """The last ``size`` events, newest last; entries are made from them when read.

    Every tool call emits events, and few are ever read: keeping the event costs
    nothing on the call's path, describing it costs a model dump.
    """

    def __init__(self, size: int = 500) -> None:
        self._events: deque[tuple[Event, str | None, str | None]] = deque(maxlen=size)

    def add(self, event: Event, who: str | None = None, user_id: str | None = None) -> None:
        """Log ``event``; ``who`` and ``user_id`` are the name and id its author shows (an agent's), if known."""
        self._events.append((event, who, user_id))

    def recent(self, *, path: str | None = None, limit: int = 20) -> list[ActivityEntry]:
        """Newest first, optionally only about one document."""
        found = []
        for event, who, user_id in reversed(self._events):
            if path is None or _path_of(event) == path:
                found.append(entry_of(event, who, user_id))
                if len(found) >= limit:
                    break
        return found


def _path_of(event: Event) -> str | None:
    """The document an event concerns (its ``path``, or ``document_path``), if any."""
    path = getattr(event, "path", None) or getattr(event, "document_path", None)
    return path if isinstance(path, str) else None


def entry_of(event: Event, who: str | None = None, user_id: str | None = None) -> ActivityEntry:
    data = event.model_dump(mode="json")
    path = data.get("path") or data.get("document_path")
    event_type = type(event).event_type
    return ActivityEntry(
        timestamp=event.timestamp,
        activity_type=data.get("activity_type") if event_type == "user_activity" else event_type,
        user_id=user_id or data.get("user_id") or event.actor,
        path=path if isinstance(path, str) else None,
        description=_describe(event_type, data, who),
        details={k: v for k, v in data.items() if k not in _PLAIN_FIELDS and v is not None},
    )


def _describe(event_type: str, data: dict[str, Any], who: str | None) -> str:
    who = who or data.get("display_name") or data.get("actor") or "someone"
    where = f" on {data['path']}" if data.get("path") else ""
    if event_type == "tool_called":
        return f"{who} used {data.get('tool')}{where}"
    if event_type == "tool_failed":
        return f"{who}'s call to {data.get('tool')}{where} failed: {data.get('error')}"
    if event_type == "presence_changed":
        change = data.get("change")
        if change == "joined":
            return f"{who} joined {data.get('path') or data.get('session_id')}"
        if change == "left":
            return f"{who} left {data.get('path') or data.get('session_id')}"
        message = f" ({data['message']})" if data.get("message") else ""
        return f"{who} is now {data.get('status')}{message}"
    if event_type == "user_activity":
        return f"{who}: {data.get('description')}"
    return f"{event_type} by {who}{where}"
