"""collab-mcp: AI agents as real-time collaborators in Jupyter, over MCP.

This module is the public API a pack imports from; every name is in ``__all__``
and documented in docs/plugins.md. Declare tools with :func:`tool`, implement
hooks (:mod:`collab_mcp_core.hookspecs`) with :data:`hookimpl`.
"""

from __future__ import annotations

from typing import Any

from .awaiting import await_maybe
from .backend_protocol import NOTEBOOK, TEXT_FILE, Backend, Contents, DocumentKind, Forks, KernelConnection, Kernels
from .changes import Change, ChangeLog, agent_origin, change_log, compact_diff, update_author
from .context import HostServices, ToolContext
from .decisions import Deny, Verdict
from .errors import Conflict, InvalidArgument, NotFound, PermissionDenied, RegistrationError, ToolError
from .events import Event
from .handles import CellHandle, NotebookHandle, TextHandle, state_vector, text_of
from .hookspecs import hookimpl
from .identity import Identity
from .registry import ResourceTemplate, Tool, ToolCall
from .room_events import RoomEvent, RoomEvents
from .state import CallerState, caller_key
from .text import (
    Splice, apply_splices, apply_to_string, change_summary, character_splices, minimal_splices, rebase, replace_text,
)
from .tools import Permission, ToolOutput, tool
from .update_store import agent_of
from .version import __version__
from .versions import check_version, document_version
from .watch import RoomWatcher

__all__ = [
    "NOTEBOOK",
    "TEXT_FILE",
    "Backend",
    "CallerState",
    "CellHandle",
    "Change",
    "ChangeLog",
    "Conflict",
    "Contents",
    "Deny",
    "DocumentKind",
    "Event",
    "Forks",
    "HostServices",
    "Identity",
    "InvalidArgument",
    "KernelConnection",
    "Kernels",
    "NotFound",
    "NotebookHandle",
    "Permission",
    "PermissionDenied",
    "RegistrationError",
    "ResourceTemplate",
    "RoomEvent",
    "RoomEvents",
    "RoomWatcher",
    "Splice",
    "TextHandle",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolError",
    "ToolOutput",
    "Verdict",
    "__version__",
    "agent_of",
    "agent_origin",
    "apply_splices",
    "apply_to_string",
    "await_maybe",
    "caller_key",
    "change_log",
    "change_summary",
    "character_splices",
    "check_version",
    "compact_diff",
    "document_version",
    "hookimpl",
    "minimal_splices",
    "rebase",
    "replace_text",
    "state_vector",
    "text_of",
    "tool",
    "update_author",
]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import CollabMCP

    return [{"module": "collab_mcp_core", "app": CollabMCP}]
