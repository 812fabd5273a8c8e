"""What read tools return: cells and collaboration state as the model sees them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from pydantic_core import from_json

from collab_mcp_core import NOTEBOOK, document_version

from .live import cell_index, source_hash
from .outputs import OutputBudget, OutputView, optional

# Views of outputs as get_notebook shows them: images described, never returned.
_NO_IMAGES = OutputBudget(chars=0, image_bytes=0, images_left=0, return_images=False)

if TYPE_CHECKING:
    from jupyter_ydoc import YNotebook
    from pycrdt import Map

    from collab_mcp_core import ToolContext


class CellView(BaseModel):
    """One cell of the live document (fields without a value are left out)."""

    cell_id: str = Field(description="Stable id; use it to address the cell in every tool.")
    index: int
    cell_type: str
    source: str
    source_hash: str = Field(description="Pass as expected_hash to edit tools to refuse if the cell changed.")
    execution_count: int | None = optional("The execution count, for code cells that ran.")
    execution_state: str | None = optional("running, while the cell runs (left out otherwise).")
    outputs: list[OutputView] | None = optional("Outputs within the output budget (code cells, when asked for).")
    outputs_omitted: int | None = optional("How many of the cell's last outputs were left out: over the output budget.")


def cell_view(ycell: Map, index: int, budget: OutputBudget | None) -> CellView:
    """A cell as the model sees it; outputs only when a ``budget`` is given."""
    # pycrdt's Rust-side JSON export, parsed by pydantic's Rust parser: ~15x faster than Map.to_py().
    return _view(from_json(str(ycell)) or {}, index, budget)


def cell_views(nb: YNotebook, start: int, end: int, *, outputs: bool) -> list[CellView]:
    """Views of cells ``start`` to ``end`` (exclusive), outputs whole (fit them to a budget after).

    Call inside one read transaction. Each cell's view is remembered in the
    notebook's cell index until anything in the cell changes, so reading a
    notebook again costs only the cells changed since. The views remembered
    hold no images (get_notebook returns none): every caller may share them,
    and gets its own copy placed at the cell's position.
    """
    memo = remembered_views(nb, start, end)
    return [_placed(memo[i], i, outputs) for i in range(start, end)]


def remembered_views(nb: YNotebook, start: int = 0, end: int | None = None) -> list[CellView]:
    """The memo of cell views, filled for cells ``start`` to ``end`` (default: all). Call inside one read
    transaction; the views are shared: never change them (their ``index`` is where the cell was then)."""
    memo = cell_index(nb).memo(len(nb.ycells))
    end = len(memo) if end is None else end
    missing = [i for i in range(start, end) if memo[i] is None]
    if missing:
        ycells = nb.ycells
        if len(missing) * 4 > len(ycells):  # a large share: one JSON export of the whole array
            plain = from_json(str(ycells))
            for i in missing:
                memo[i] = _view(plain[i] or {}, i, _NO_IMAGES)
        else:
            for i in missing:
                memo[i] = _view(from_json(str(ycells[i])) or {}, i, _NO_IMAGES)
    return memo


def _placed(view: CellView, index: int, outputs: bool) -> CellView:
    # A new outputs list: OutputBudget.fit replaces the views it cuts in it, never the shared ones.
    shown = list(view.outputs) if outputs and view.outputs is not None else None
    return view.model_copy(update={"index": index, "outputs": shown})


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
        execution_state="running" if cell.get("execution_state") == "running" else None,
    )
    if budget is not None and view.cell_type == "code":
        view.outputs = [budget.view(o) for o in cell.get("outputs") or []]
    return view


# The first line of a cell's source shown in an outline, in characters.
OUTLINE_SOURCE = 60


def outline_line(view: CellView) -> str:
    """One line for a cell: index, id, type, execution count, first line of source, what its outputs are."""
    lines = view.source.strip().splitlines()
    first = lines[0].strip() if lines else ""
    if len(first) > OUTLINE_SOURCE or len(lines) > 1:
        first = first[:OUTLINE_SOURCE] + f"… ({len(lines)} lines)"
    count = f"[{view.execution_count}]" if view.execution_count is not None else ""
    kind = "" if view.cell_type == "code" else f"{view.cell_type} "
    outputs = ", ".join(_output_summary(o) for o in view.outputs or [])
    return f"{view.index} {view.cell_id} {kind}{count}{' ' if count else ''}{first}" + (f" → {outputs}" if outputs else "")


def _output_summary(output: OutputView) -> str:
    if output.output_type == "error":
        return f"error {output.ename}"
    size = _size(len(output.text or ""))
    if output.output_type == "stream":
        return f"{output.name} {size}"
    image = next((m for m in output.mime_types or [] if m.startswith("image/")), None)
    return f"{image} + text {size}" if image else f"{output.output_type.split('_')[0]} {size}"


def _size(chars: int) -> str:
    return f"{chars}" if chars < 1000 else f"{chars / 1000:.1f}k"


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
        document_version=document_version(nb.ydoc) if nb is not None else None,
    )
