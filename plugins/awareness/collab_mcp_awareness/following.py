"""The agent's cursor follows its own edits made with other packs' tools.

Other packs' cell events (``notebook_cell_inserted``, ``notebook_cell_updated``)
name the author in ``actor`` and the MCP session of the call in ``session_id``:
the cursor of that session's agent moves if it joined the notebook's session
(switch: ``c.AwarenessPack.follow_edits``).
"""

from __future__ import annotations

import logging
from typing import Any

from collab_mcp_core import ToolError

from .cursors import DocumentTexts
from .hub import AwarenessHub, Cursor
from .positions import line_column_of
from .relative_positions import PositionError
from .rooms import open_rooms

log = logging.getLogger(__name__)

FOLLOWED = ("notebook_cell_inserted", "notebook_cell_updated")


def follow_edit(hub: AwarenessHub, event: Any) -> None:
    """Put the author's cursor at the end of the cell the event says it edited."""
    path, cell_id = getattr(event, "path", None), getattr(event, "cell_id", None)
    if type(event).event_type not in FOLLOWED or not (isinstance(path, str) and isinstance(cell_id, str)):
        return
    # Most edits come from agents that show no presence: decide that before looking up rooms.
    agent = hub.author(event)
    if agent is None or not agent.visible:
        return
    room = next((r for r in open_rooms(hub.host.backend) if r.path == path), None)
    if room is None or not room.is_notebook or room.room_id not in agent.seats:
        return
    texts = DocumentTexts(room)
    try:
        length = len(texts.content(cell_id))
        ids = texts.ids(cell_id, offsets=[length])
    except (ToolError, PositionError):
        log.debug("could not follow an edit of %s in %s", cell_id, path, exc_info=True)
        return  # the cell is gone again already
    end = ids.relative_position(length)
    line, column = line_column_of(ids.text, length)
    seat = agent.seats[room.room_id]
    seat.cursor = Cursor(line=line, column=column, cell_id=cell_id, anchor=None,
                         relative=[{"anchor": end, "head": end, "primary": True, "empty": True}])
    agent.current = path
    hub.publish(agent, seat)
