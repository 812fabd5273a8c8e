"""Errors a tool raises so the model gets a message it can act on."""

from __future__ import annotations


class ToolError(Exception):
    """A failure the calling model should read: what was wrong, what is valid.

    The host turns it into a ``CallToolResult`` with ``is_error`` set; nothing
    else about the call leaks (no traceback). Tools must raise it before they
    change anything, so a failed call changes nothing.
    """

    code = "invalid_request"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidArgument(ToolError):
    """An argument no call could succeed with (a path with a NUL byte, say), whatever the server holds."""

    code = "invalid_argument"


class NotFound(ToolError):
    """The path, cell, version or session the call names does not exist."""

    code = "not_found"


class PermissionDenied(ToolError):
    """The caller lacks the permission the tool needs on this path (a 403)."""

    code = "permission_denied"


class Conflict(ToolError):
    """The document changed since the caller read it (optimistic concurrency)."""

    code = "conflict"


class RegistrationError(Exception):
    """A pack registered something the host cannot accept (no permission, a name collision...)."""
