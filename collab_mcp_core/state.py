"""Per-caller state: what a pack remembers about one caller between its calls.

One store for every pack: a dict per (pack, caller), where the caller is the MCP
session (or, for the sessionless protocol revision, the user). The host drops a
session's dicts when the session closes, after the packs' ``mcp_session_closed``.
"""

from __future__ import annotations

from typing import Any


def caller_key(session_id: str | None, username: str) -> str:
    """The key of a caller: its MCP session when it has one, else its user."""
    return f"session:{session_id}" if session_id else f"user:{username}"


class CallerState:
    """Dicts of state, one per (caller, pack), created on first use."""

    def __init__(self) -> None:
        self._by_caller: dict[str, dict[str, dict[str, Any]]] = {}

    def of(self, caller: str, pack: str) -> dict[str, Any]:
        """The state ``pack`` keeps for ``caller`` (a new empty dict the first time)."""
        return self._by_caller.setdefault(caller, {}).setdefault(pack, {})

    def drop(self, caller: str) -> None:
        """Forget everything about ``caller`` (its session closed)."""
        self._by_caller.pop(caller, None)
