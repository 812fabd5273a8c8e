"""The events this pack emits (declared through ``register_events``)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from collab_mcp_core import Event


class PresenceChanged(Event):
    """Someone joined or left a document's collaboration session, or an agent changed its status."""

    event_type: ClassVar[str] = "presence_changed"
    change: Literal["joined", "left", "status"] = Field(description="What changed.")
    user_id: str = Field(description="The Jupyter username of whoever changed.")
    display_name: str
    is_agent: bool
    status: str = Field("online", description="online, away, busy or offline.")
    message: str | None = Field(None, description="The status message, if any.")
    path: str | None = Field(None, description="The document, for joins and leaves.")
    session_id: str | None = Field(None, description="The collaboration session (room id), for joins and leaves.")


class UserActivity(Event):
    """An activity an agent announced to its collaborators (broadcast_user_activity)."""

    event_type: ClassVar[str] = "user_activity"
    activity_type: str = Field(description="A short name for the kind of activity, e.g. 'analysis_started'.")
    description: str
    path: str | None = Field(None, description="The document the activity is about, if any.")
    metadata: dict[str, Any] = Field(default_factory=dict)


EVENTS: tuple[type[Event], ...] = (PresenceChanged, UserActivity)
