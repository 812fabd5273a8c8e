"""The agent's cursor follows its own work in notebooks: the cell it edits or runs.

Before a call of another pack's tool that names a ``cell_id``, and after the
cell events it causes (``notebook_cell_inserted``, ``notebook_cell_updated``,
``notebook_cell_executed``, which name the author's MCP session), the cursor of
that session's agent moves to the end of the cell, when the agent is present in
the notebook (switch: ``c.AwarenessPack.follow_edits``). A run of edits moves it
once per ``hub.CURSOR_INTERVAL``, after the edits' document updates.
"""

from __future__ import annotations

import logging
from typing import Any

from pycrdt import Array, Map, Text

from collab_mcp_core import NOTEBOOK, ToolError

from .cursors import DocumentTexts
from .hub import Agent, AwarenessHub, Cursor, Seat
from .positions import line_column_of
from .relative_positions import PositionError, end_position
from .rooms import OpenRoom

log = logging.getLogger(__name__)

FOLLOWED = ("notebook_cell_inserted", "notebook_cell_updated", "notebook_cell_executed")
NOTEBOOK_ROOM = ":".join(NOTEBOOK) + ":"  # how notebook room ids begin (json:notebook:<file id>)


def follow_edit(hub: AwarenessHub, event: Any) -> None:
    """Put the author's cursor at the end of the cell the event says it edited or ran."""
    path, cell_id = getattr(event, "path", None), getattr(event, "cell_id", None)
    if type(event).event_type not in FOLLOWED or not (isinstance(path, str) and isinstance(cell_id, str)):
        return
    # Most edits come from agents that show no presence: decide that before looking up rooms.
    agent = hub.author(event)
    if agent is None or not agent.visible:
        return
    room_id = next((r for r, p in agent.paths.items() if p == path), None)  # the rooms it sits in
    if room_id is not None:
        index = getattr(event, "index", None)
        follow_cell(hub, agent, room_id, cell_id, index if isinstance(index, int) else None)


def follow_cell(hub: AwarenessHub, agent: Agent, room_id: str, cell_id: str, index: int | None = None) -> None:
    """Put the agent's cursor at the end of a notebook cell, if it is present in that notebook (room).

    The cursor is placed when its state is published (:meth:`AwarenessHub.publish_soon`), so
    a run of edits costs one placement per interval, not one per edit; ``index`` is where
    the cell probably is (checked before the notebook is searched).
    """
    seat = agent.seats.get(room_id)
    if seat is None or not room_id.startswith(NOTEBOOK_ROOM):
        return
    agent.current = agent.paths.get(room_id, agent.current)
    hub.publish_soon(agent, seat, lambda: _place_cursor(seat, agent.paths.get(room_id, ""), cell_id, index))


def _place_cursor(seat: Seat, path: str, cell_id: str, index: int | None) -> None:
    """Set the seat's cursor to the end of the cell (left as it was if the cell is gone)."""
    room = OpenRoom(seat.room_id, path, "notebook", seat.room)  # the room it sits in now (a re-created one too)
    source = _live_source(room, cell_id, index)
    if source is None:
        return  # the cell is gone (again), or never was
    # Copying the whole notebook to compute positions costs tens of milliseconds at 1,000
    # cells: ask pycrdt directly where it is right (an ASCII cell).
    end, content = end_position(source), str(source)
    if end is None:
        texts = DocumentTexts(room)
        try:
            content = texts.content(cell_id)
            end = texts.ids(cell_id, offsets=[len(content)]).relative_position(len(content))
        except (ToolError, PositionError):
            log.debug("could not follow %s in %s", cell_id, room.path, exc_info=True)
            return  # the cell is gone (again), or never was
    line, column = line_column_of(content, len(content))
    seat.cursor = Cursor(line=line, column=column, cell_id=cell_id, anchor=None,
                         relative=[{"anchor": end, "head": end, "primary": True, "empty": True}])


def _live_source(room: OpenRoom, cell_id: str, index: int | None) -> Text | None:
    """The source ``Text`` of a cell in the room's live document (read only), or None."""
    cells = room.room.ydoc.get("cells", type=Array)
    with room.room.ydoc.transaction():  # one transaction for the whole search, not one per cell
        if index is not None and 0 <= index < len(cells):
            cell = cells[index]
            if isinstance(cell, Map) and cell.get("id") == cell_id:
                return _source_of(cell)
        for cell in cells:
            if isinstance(cell, Map) and cell.get("id") == cell_id:
                return _source_of(cell)
    return None


def _source_of(cell: Map) -> Text | None:
    source = cell.get("source")
    return source if isinstance(source, Text) else None
