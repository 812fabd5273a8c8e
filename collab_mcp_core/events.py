"""Typed events, and the bus that sends them to listeners and Jupyter's event log.

An event is a pydantic model with an ``event_type`` class variable. The host
registers a JSON schema per event type with Jupyter's ``EventLogger``
(``serverapp.event_logger``) so the rest of the Jupyter ecosystem can observe
agents, then calls every pack's ``on_event`` hook.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from jupyter_events import EventLogger

log = logging.getLogger(__name__)

SCHEMA_BASE = "https://collab-mcp.jupyter.org/events/"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Event(BaseModel):
    """Base of every event. Subclasses set ``event_type`` (a short snake_case name)."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    actor: str | None = Field(None, description="Username of who caused the event, if known.")
    session_id: str | None = Field(
        None, description="The MCP session whose call caused the event, if any (one user may run several agents)."
    )
    timestamp: str = Field(default_factory=_now, description="When it happened (ISO 8601, UTC).")

    @classmethod
    def schema_id(cls) -> str:
        return SCHEMA_BASE + cls.event_type

    @classmethod
    def jupyter_schema(cls) -> dict[str, Any]:
        """The schema in the shape ``jupyter_events`` wants (``$id``, ``version``...)."""
        schema = cls.model_json_schema()
        return {
            "$id": cls.schema_id(),
            "version": str(cls.schema_version),  # jupyter_events warns for anything but a string
            "title": cls.__name__,
            "description": (cls.__doc__ or cls.__name__).strip().splitlines()[0],
            "type": "object",
            "properties": schema.get("properties", {}),
            **({"$defs": schema["$defs"]} if "$defs" in schema else {}),
        }


class ToolCalled(Event):
    """A tool call finished without error."""

    event_type: ClassVar[str] = "tool_called"
    tool: str
    pack: str
    path: str | None = None
    duration_ms: float


class ToolFailed(Event):
    """A tool call ended in an error result (bad input, denied, or a failure)."""

    event_type: ClassVar[str] = "tool_failed"
    tool: str
    pack: str
    path: str | None = None
    error: str
    code: str
    duration_ms: float


HOST_EVENTS: tuple[type[Event], ...] = (ToolCalled, ToolFailed)


class EventBus:
    """Registers event types and delivers each event to Jupyter and to listeners."""

    def __init__(self, event_logger: EventLogger | None, listeners: Any) -> None:
        self._event_logger = event_logger
        self._listeners = listeners  # callable(event) -> list of results (pluggy hook)
        self.types: dict[str, type[Event]] = {}

    def register(self, event_class: type[Event]) -> None:
        name = event_class.event_type
        known = self.types.get(name)
        if known is event_class:
            return
        if known is not None:
            raise ValueError(f"event type {name!r} is registered twice ({known.__module__} and {event_class.__module__})")
        self.types[name] = event_class
        if self._event_logger is not None:
            self._event_logger.register_event_schema(event_class.jupyter_schema())

    async def emit(self, event: Event) -> None:
        if type(event).event_type not in self.types:
            raise ValueError(f"event type {type(event).event_type!r} was never registered (use the register_events hook)")
        if self._event_logger is not None:
            self._event_logger.emit(schema_id=event.schema_id(), data=event.model_dump(mode="json"))
        for result in self._listeners(event):
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                try:
                    await result
                except Exception:
                    log.exception("an on_event listener failed for %s", type(event).event_type)
