"""The agent's cursor follows its own edits made with other packs' tools.

Other packs' cell events (``notebook_cell_inserted``, ``notebook_cell_updated``)
name the author in ``actor`` and the MCP session of the call in ``session_id``:
the cursor moves for that session's agent if it joined the notebook's session
(for an event without a session, for each of the actor's agents that did;
switch: ``c.AwarenessPack.follow_edits``).
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
    path, cell_id, actor = getattr(event, "path", None), getattr(event, "cell_id", None), event.actor
    if type(event).event_type not in FOLLOWED or not (isinstance(path, str) and isinstance(cell_id, str) and actor):
        return
    # Most edits come from agents that show no presence: decide that before looking up rooms.
    agents = [a for a in hub.authors(event) if a.visible]
    if not agents:
        return
    room = next((r for r in open_rooms(hub.host.backend) if r.path == path), None)
    if room is None or not room.is_notebook:
        return
    agents = [a for a in agents if room.room_id in a.seats]
    if not agents:
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
    for agent in agents:
        seat = agent.seats[room.room_id]
        seat.cursor = Cursor(line=line, column=column, cell_id=cell_id, anchor=None,
                             relative=[{"anchor": end, "head": end, "primary": True, "empty": True}])
        agent.current = path
        hub.publish(agent, seat)
