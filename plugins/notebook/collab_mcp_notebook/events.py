"""Events the notebook pack emits (each carries the author in ``actor``)."""

from __future__ import annotations

from typing import ClassVar

from collab_mcp_core import Event


class CellEvent(Event):
    """Base of the cell events: which notebook and which cell."""

    event_type: ClassVar[str] = "notebook_cell"
    path: str
    cell_id: str
    index: int


class CellInserted(CellEvent):
    """A cell was inserted into a notebook."""

    event_type: ClassVar[str] = "notebook_cell_inserted"
    cell_type: str


class CellUpdated(CellEvent):
    """A cell's source, type or outputs changed."""

    event_type: ClassVar[str] = "notebook_cell_updated"
    change: str


class CellDeleted(CellEvent):
    """A cell was deleted from a notebook."""

    event_type: ClassVar[str] = "notebook_cell_deleted"


class CellMoved(CellEvent):
    """A cell moved; ``index`` is where it is now."""

    event_type: ClassVar[str] = "notebook_cell_moved"
    from_index: int


class CellExecuted(CellEvent):
    """A cell ran in the notebook's kernel."""

    event_type: ClassVar[str] = "notebook_cell_executed"
    status: str
    execution_count: int | None = None
    kernel_id: str


NOTEBOOK_EVENTS: tuple[type[Event], ...] = (CellInserted, CellUpdated, CellDeleted, CellMoved, CellExecuted)
