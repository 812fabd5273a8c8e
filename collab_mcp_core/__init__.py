"""collab-mcp: AI agents as real-time collaborators in Jupyter, over MCP.

This module is the public API a pack imports from; every name is in ``__all__``
and documented in docs/plugins.md. Declare tools with :func:`tool`, implement
hooks (:mod:`collab_mcp_core.hookspecs`) with :data:`hookimpl`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from .awaiting import await_maybe  # noqa: E402
from .changes import Change, ChangeLog, agent_origin, change_log, compact_diff, update_author  # noqa: E402
from .context import HostServices, ToolContext  # noqa: E402
from .decisions import Deny, Verdict  # noqa: E402
from .errors import Conflict, InvalidArgument, NotFound, PermissionDenied, RegistrationError, ToolError  # noqa: E402
from .events import Event  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402
from .identity import Identity  # noqa: E402
from .registry import ResourceTemplate, Tool, ToolCall  # noqa: E402
from .tools import Permission, ToolOutput, tool  # noqa: E402

__all__ = [
    "Change",
    "ChangeLog",
    "Conflict",
    "Deny",
    "Event",
    "HostServices",
    "Identity",
    "InvalidArgument",
    "NotFound",
    "Permission",
    "PermissionDenied",
    "RegistrationError",
    "ResourceTemplate",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolError",
    "ToolOutput",
    "Verdict",
    "__version__",
    "agent_origin",
    "await_maybe",
    "change_log",
    "compact_diff",
    "hookimpl",
    "tool",
    "update_author",
]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import CollabMCP

    return [{"module": "collab_mcp_core", "app": CollabMCP}]
