"""collab-mcp's figures on the Jupyter server's Prometheus endpoint (``{base_url}metrics``).

Jupyter serves ``prometheus_client``'s default registry there (behind its own
authentication unless ``ServerApp.authenticate_prometheus`` is off), so these
metrics only need to exist in this process. Tool calls are counted from the
host's own ``tool_called`` / ``tool_failed`` events (its ``on_event``): labels are tool names from
the registry and error codes, never arguments or paths, so their number stays small.
"""

from __future__ import annotations

from collections.abc import Callable
from prometheus_client import Counter, Gauge, Histogram

from .events import Event, ToolCalled, ToolFailed

TOOL_CALLS = Counter(
    "collab_mcp_tool_calls",
    "MCP tool calls answered, by tool and outcome ('ok' or the error code).",
    ["tool", "outcome"],
)
TOOL_CALL_SECONDS = Histogram(
    "collab_mcp_tool_call_duration_seconds",
    "Time from the call's arrival at the host to its answer, by tool.",
    ["tool"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
SESSIONS_OPEN = Gauge("collab_mcp_sessions_open", "MCP sessions open now (protocol 2025-11-25: sessions with an id).")
AGENT_ROOMS_OPENED = Counter(
    "collab_mcp_agent_rooms_opened", "Collaboration rooms an agent opened because nobody had the document open."
)
AGENT_ROOMS_OPEN = Gauge("collab_mcp_agent_rooms_open", "Rooms agents opened or used that are still open.")


def record_tool_call(event: Event) -> None:
    """Count a finished tool call from its ``tool_called`` or ``tool_failed`` event (others are ignored)."""
    if isinstance(event, ToolCalled):
        outcome = "ok"
    elif isinstance(event, ToolFailed):
        outcome = event.code
    else:
        return
    TOOL_CALLS.labels(tool=event.tool, outcome=outcome).inc()
    TOOL_CALL_SECONDS.labels(tool=event.tool).observe(event.duration_ms / 1000)


def count_agent_rooms(count: Callable[[], int]) -> None:
    """Report ``count()`` (rooms agents hold open) whenever ``/metrics`` is read."""
    AGENT_ROOMS_OPEN.set_function(count)
