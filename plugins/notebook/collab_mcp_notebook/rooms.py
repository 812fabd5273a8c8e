"""Rooms the pack opened for agents, and closing them once nobody uses them.

``get_document(create=True)`` opens a room that jupyter-server-ydoc never
cleans up (it only schedules cleanup when a websocket client leaves), so an
agent touching many notebooks would leak rooms. The pack remembers when a
tool last used each notebook; a background task saves and closes rooms with
no websocket client that no tool used for ``idle_room_seconds``.
"""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collab_mcp_core.host import Host

_last_used: weakref.WeakKeyDictionary[Host, dict[str, float]] = weakref.WeakKeyDictionary()


def touched(host: Host, api_path: str) -> None:
    """Remember that a tool used this notebook's room now."""
    _last_used.setdefault(host, {})[api_path] = time.monotonic()


def last_used(host: Host) -> dict[str, float]:
    return _last_used.setdefault(host, {})
