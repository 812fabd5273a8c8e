"""What read tools return: cells and collaboration state as the model sees them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from pydantic_core import from_json

from .live import NOTEBOOK, document_version, source_hash
from .outputs import OutputBudget, OutputView, optional

if TYPE_CHECKING:
    from jupyter_ydoc import YNotebook
    from pycrdt import Array, Map

    from collab_mcp_core.host import ToolContext


class CellView(BaseModel):
    """One cell of the live document (fields without a value are left out)."""

    cell_id: str = Field(description="Stable id; use it to address the cell in every tool.")
    index: int
    cell_type: str
    source: str
    source_hash: str = Field(description="Pass as expected_hash to edit tools to refuse if the cell changed.")
    execution_count: int | None = optional("The execution count, for code cells that ran.")
    execution_state: str | None = optional("running or idle, for code cells.")
    outputs: list[OutputView] | None = optional("Outputs within the output budget (code cells, when asked for).")


def cell_view(ycell: Map, index: int, budget: OutputBudget | None) -> CellView:
    """A cell as the model sees it; outputs only when a ``budget`` is given."""
    # pycrdt's Rust-side JSON export, parsed by pydantic's Rust parser: ~15x faster than Map.to_py().
    return _view(from_json(str(ycell)) or {}, index, budget)


def cell_views(ycells: Array, start: int, end: int, budget: OutputBudget | None) -> list[CellView]:
    """Views of cells ``start`` to ``end`` (exclusive); call inside one read transaction."""
    if (end - start) * 4 > len(ycells):  # a large share: one JSON export of the whole array
        plain = from_json(str(ycells))[start:end]
    else:
        plain = [from_json(str(ycells[i])) for i in range(start, end)]
    return [_view(cell or {}, start + k, budget) for k, cell in enumerate(plain)]


def _view(cell: dict[str, Any], index: int, budget: OutputBudget | None) -> CellView:
    source = cell.get("source") or ""
    source = "".join(source) if isinstance(source, list) else str(source)
    count = cell.get("execution_count")
    view = CellView(
        cell_id=str(cell.get("id")),
        index=index,
        cell_type=str(cell.get("cell_type")),
        source=source,
        source_hash=source_hash(source),
        execution_count=int(count) if isinstance(count, int | float) else None,
        execution_state=cell.get("execution_state"),
    )
    if budget is not None and view.cell_type == "code":
        view.outputs = [budget.view(o) for o in cell.get("outputs") or []]
    return view


class Collaborator(BaseModel):
    username: str | None = None
    name: str | None = None
    display_name: str | None = None
    client_id: int


class CollaborationState(BaseModel):
    room_id: str | None = Field(description="The collaboration room (json:notebook:<file id>).")
    room_open: bool
    collaborators: list[Collaborator] = Field(description="People and agents in the room's awareness.")
    document_version: str | None = Field(None, description="Changes on every change anyone makes.")


def collaborators(ctx: ToolContext, room: Any) -> list[Collaborator]:
    return [
        Collaborator(
            username=p.get("username"), name=p.get("name"), display_name=p.get("display_name"), client_id=p["client_id"]
        )
        for p in ctx.backend.collaborators(room)
    ]


def collaboration_state(ctx: ToolContext, api_path: str, nb: YNotebook | None = None) -> CollaborationState:
    """Room, collaborators and version of a notebook, without opening a room."""
    room = ctx.backend.room_for(api_path, NOTEBOOK)
    return CollaborationState(
        room_id=getattr(room, "room_id", None) or ctx.backend.room_id(api_path, NOTEBOOK, create=False),
        room_open=room is not None,
        collaborators=collaborators(ctx, room),
        document_version=document_version(nb) if nb is not None else None,
    )
