"""collab-mcp: AI agents as real-time collaborators in Jupyter, over MCP.

The host package. Packs build on :mod:`collab_mcp_core.hookspecs`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from .errors import Conflict, NotFound, PermissionDenied, ToolError  # noqa: E402
from .events import Event  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402
from .identity import Identity  # noqa: E402
from .packs import await_maybe  # noqa: E402
from .registry import ResourceTemplate, ToolOutput  # noqa: E402

__all__ = [
    "Conflict",
    "Event",
    "Identity",
    "NotFound",
    "PermissionDenied",
    "ResourceTemplate",
    "ToolError",
    "ToolOutput",
    "__version__",
    "await_maybe",
    "hookimpl",
]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import CollabMCP

    return [{"module": "collab_mcp_core", "app": CollabMCP}]
