"""Tools about whole notebooks: listing, reading, and opening a session (room and kernel)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pycrdt import Map
from pydantic import BaseModel, Field, WithJsonSchema

from collab_mcp_core import NOTEBOOK, NotFound, ToolContext, ToolError, ToolOutput, tool

from .changes import issue_version
from .config import NotebookPack
from .current_notebook import PATH, make_current
from .files import walk
from .kernels import NotebookKernel, check_kernel_name, ensure_session, kernel_alive_state
from .live import notebook_path, open_notebook, remember_source
from .outputs import OutputBudget, optional
from .views import (
    CellView,
    CollaborationState,
    Collaborator,
    cell_views,
    collaboration_state,
    collaborators,
    outline_line,
)

# -- list ------------------------------------------------------------------------------------


class ListNotebooksArgs(BaseModel):
    path: str = Field("", description="Folder to search recursively ('': the root).")
    start: int = Field(0, ge=0, description="First item (paging: pass next_start).")
    limit: int = Field(200, ge=1, le=1000, description="Most items to return.")


class NotebookEntry(BaseModel):
    path: str
    last_modified: str | None = None
    room_open: bool = Field(description="Whether a collaboration room is open (someone or an agent has it open).")
    collaborators: list[Collaborator]


class NotebookList(BaseModel):
    folder: str
    notebooks: list[NotebookEntry]
    total: int
    next_start: int | None = Field(None, description="Pass as start to get the next page; null when done.")


@tool(permission="read", title="List notebooks")
async def list_notebooks(ctx: ToolContext, args: ListNotebooksArgs) -> NotebookList:
    """List notebooks under a folder with who has each open (opens no room); page with start/next_start."""
    folder = ctx.path
    found = await walk_notebooks(ctx, folder)
    if found is None:
        raise NotFound(f"No folder at {args.path!r}. Give a folder relative to the server root ('' is the root).")
    page = found[args.start : args.start + args.limit]
    entries = []
    for item in page:
        room = ctx.backend.room_for(item["path"], NOTEBOOK)
        entries.append(
            NotebookEntry(
                path=item["path"],
                last_modified=str(item.get("last_modified") or "") or None,
                room_open=room is not None,
                collaborators=collaborators(ctx, room),
            )
        )
    end = args.start + len(page)
    return NotebookList(
        folder=folder, notebooks=entries, total=len(found), next_start=end if end < len(found) else None
    )


async def walk_notebooks(ctx: ToolContext, folder: str) -> list[dict] | None:
    """Contents models of every notebook under ``folder`` (sorted by path), or None if it is no folder."""
    found = await walk(ctx, folder)
    if found is None:
        return None
    return [m for m in found if m["type"] == "notebook" or (m["type"] == "file" and m["name"].endswith(".ipynb"))]


# -- get -------------------------------------------------------------------------------------


class GetNotebookArgs(BaseModel):
    path: str | None = PATH
    include_collaboration_state: bool = Field(True, description="Add the room id and collaborators.")
    include_outputs: bool = Field(True, description="Add outputs (within the output budget).")
    view: Literal["full", "outline"] = Field("full", description="outline: one line per cell instead of cells.")
    start: int = Field(0, ge=0, description="First cell index (paging: pass next_start).")
    limit: int = Field(100, ge=1, le=5000, description="Most cells to return.")


class NotebookView(BaseModel):
    path: str
    cell_count: int
    start: int
    next_start: int | None = Field(None, description="Pass as start to read the next cells; null when done.")
    # Declared loosely in the output schema: MCP clients validate structured content
    # against it, and a per-cell schema costs ~0.3 ms a cell (a 1,000-cell read: 300 ms).
    cells: Annotated[
        list[CellView],
        WithJsonSchema(
            {
                "type": "array",
                "items": {"type": "object"},
                "description": "Cells: cell_id, index, cell_type, source, source_hash, execution_count, "
                "execution_state, outputs, outputs_omitted (as read_notebook_cell returns them; fields without a "
                "value are left out).",
            }
        ),
    ]
    document_version: str
    outline: str | None = optional("With view=outline: one line per cell (the cells list is then empty).")
    collaboration: CollaborationState | None = None
    note: str | None = Field(None, description="Something to know about this notebook (cell id stability...).")


@tool(permission="read", title="Read a notebook", output=NotebookView)
async def get_notebook(ctx: ToolContext, args: GetNotebookArgs) -> ToolOutput:
    """Read the live notebook (unsaved edits included): cells with ids, sources and outputs, and who is in the room.

    Page with start/next_start.
    """
    api_path = await notebook_path(ctx)
    nb = await open_notebook(ctx, api_path)
    if args.view == "outline":
        return _outline(ctx, api_path, nb, args)
    budget = OutputBudget.from_config(ctx.config(NotebookPack), return_images=False) if args.include_outputs else None
    n = len(nb.ycells)
    end = min(n, args.start + args.limit)
    with nb.ydoc.transaction():  # one read transaction for every cell, not one per cell
        cells = cell_views(nb, args.start, end, outputs=budget is not None)
    if budget is not None:
        shown = [c for c in cells if c.outputs]
        for cell, lost in zip(shown, budget.fit([c.outputs for c in shown]), strict=True):
            cell.outputs_omitted = lost or None
    for cell in cells:
        remember_source(ctx, api_path, cell.cell_id, cell.source)
    view = NotebookView(
        path=api_path,
        cell_count=n,
        start=args.start,
        next_start=end if end < n else None,
        cells=cells,
        document_version=issue_version(ctx, api_path, nb),
        collaboration=collaboration_state(ctx, api_path, nb) if args.include_collaboration_state else None,
        note=" ".join(n for n in (_format_note(nb), budget and budget.omitted_note()) if n) or None,
    )
    return ToolOutput(structured=view, text=_notebook_text(view))


def _outline(ctx: ToolContext, api_path: str, nb: Any, args: GetNotebookArgs) -> ToolOutput:
    """The notebook as one line per cell: what is where, in a few bytes a cell."""
    n = len(nb.ycells)
    end = min(n, args.start + args.limit)
    with nb.ydoc.transaction():
        cells = cell_views(nb, args.start, end, outputs=args.include_outputs)
    view = NotebookView(
        path=api_path,
        cell_count=n,
        start=args.start,
        next_start=end if end < n else None,
        cells=[],
        document_version=issue_version(ctx, api_path, nb),
        outline="\n".join(outline_line(c) for c in cells),
        collaboration=collaboration_state(ctx, api_path, nb) if args.include_collaboration_state else None,
        note=_format_note(nb),
    )
    more = f"\n... more cells: call again with start={view.next_start}" if view.next_start is not None else ""
    head = f"{api_path}: {n} cells (outline of {args.start}..{end - 1}), version {view.document_version}\n"
    return ToolOutput(structured=view, text=head + (view.outline or "") + more)


def _format_note(nb: Any) -> str | None:
    """Notebooks before nbformat 4.5 keep no cell ids in the file: say how far ids can be trusted."""
    meta = nb.ydoc.get("meta", type=Map)
    major, minor = int(meta.get("nbformat") or 4), int(meta.get("nbformat_minor") or 0)
    if (major, minor) >= (4, 5):
        return None
    return (
        f"This notebook is nbformat {major}.{minor}, which stores no cell ids: the ids shown are stable while "
        "its room stays open, and new ones are made if it is closed and reopened (read it again then)."
    )


def _notebook_text(view: NotebookView) -> str:
    """A compact readable rendering (the structured content has every field)."""
    lines = [
        f"{view.path}: {view.cell_count} cells (showing {view.start}..{view.start + len(view.cells) - 1}), "
        f"version {view.document_version}"
    ]
    if view.collaboration:
        people = ", ".join(c.display_name or c.username or str(c.client_id) for c in view.collaboration.collaborators)
        lines.append(f"room {view.collaboration.room_id}; collaborators: {people or 'nobody else'}")
    for cell in view.cells:
        count = f" [{cell.execution_count}]" if cell.execution_count is not None else ""
        lines.append(f"--- cell {cell.index} id={cell.cell_id} {cell.cell_type}{count} hash={cell.source_hash}")
        lines.append(cell.source)
        for out in cell.outputs or []:
            lines.append(
                f"  >> {out.output_type}{'/' + out.name if out.name else ''}: {out.text or ''}"
                + (f" ({out.note})" if out.note else "")
            )
        if cell.outputs_omitted:
            lines.append(f"  >> {cell.outputs_omitted} output(s) left out")
    if view.note:
        lines.append(f"note: {view.note}")
    if view.next_start is not None:
        lines.append(f"... more cells: call again with start={view.next_start}")
    return "\n".join(lines)


# -- session ---------------------------------------------------------------------------------


class SessionArgs(BaseModel):
    path: str = Field(description="Notebook path.")
    create: bool = Field(False, description="Create an empty notebook if none exists (never overwrites).")
    kernel_name: str | None = Field(None, description="Kernel to start if the notebook has none.")
    start_kernel: bool = Field(True, description="Also start (or find) its kernel session.")


class NotebookSession(BaseModel):
    path: str
    created: bool = Field(description="True when this call created the notebook file.")
    room_id: str
    session_id: str | None = None
    kernel_id: str | None = None
    kernel_name: str | None = None
    kernel_state: str | None = None
    kernel_started: bool = False
    kernel_restarted: bool = Field(False, description="True when the kernel had died and was replaced: its variables are gone.")
    current_notebook: str = Field(description="This MCP session's current notebook now: tools use it when path is left out.")
    message: str
    cell_count: int
    document_version: str
    collaborators: list[Collaborator]


@tool(permission="execute", title="Open a notebook session", read_only=False, destructive=False, idempotent=True)
async def create_notebook_session(ctx: ToolContext, args: SessionArgs) -> NotebookSession:
    """Open (or find, or with create=true make) a notebook's room and kernel, and make it this MCP session's current notebook.

    Notebook tools then use it whenever you leave path out.
    """
    api_path = ctx.path
    if not api_path.endswith(".ipynb"):
        raise ToolError(f"{args.path!r} is not a notebook (expected a name ending in .ipynb).")
    if args.start_kernel and args.kernel_name:
        await check_kernel_name(ctx, args.kernel_name)  # before anything is created: an error changes nothing
    created = False
    if not await ctx.backend.contents.file_exists(api_path):
        if not args.create:
            raise NotFound(f"No notebook at {args.path!r}. Pass create=true to create it.")
        await ctx.backend.create_file(api_path)
        created = True
    api_path = await notebook_path(ctx, api_path)
    nb = await open_notebook(ctx, api_path)
    state: CollaborationState = collaboration_state(ctx, api_path, nb)
    notebook_kernel = await ensure_session(ctx, api_path, args.kernel_name) if args.start_kernel else None
    session = notebook_kernel.session if notebook_kernel else None
    kernel = (session or {}).get("kernel") or {}
    make_current(ctx, api_path)
    return NotebookSession(
        path=api_path,
        created=created,
        room_id=state.room_id or "",
        session_id=(session or {}).get("id"),
        kernel_id=kernel.get("id"),
        kernel_name=kernel.get("name"),
        kernel_state=kernel_alive_state(ctx, kernel["id"]) if kernel else None,
        kernel_started=bool(notebook_kernel and notebook_kernel.started),
        kernel_restarted=bool(notebook_kernel and notebook_kernel.healed),
        current_notebook=api_path,
        message=" ".join(m for m in (_kernel_message(notebook_kernel), CURRENT_NOTE.format(api_path)) if m),
        cell_count=len(nb.ycells),
        document_version=issue_version(ctx, api_path, nb),
        collaborators=state.collaborators,
    )


CURRENT_NOTE = "{} is now this session's current notebook: notebook tools use it when you leave path out."


def _kernel_message(notebook_kernel: NotebookKernel | None) -> str | None:
    if notebook_kernel is None or not notebook_kernel.healed:
        return None
    return f"The kernel was restarted because it {notebook_kernel.healed}; earlier variables are gone."


# -- save ------------------------------------------------------------------------------------


class SaveArgs(BaseModel):
    path: str | None = PATH


class SavedNotebook(BaseModel):
    path: str
    cell_count: int
    document_version: str


@tool(permission="write", title="Save a notebook", destructive=False, idempotent=True)
async def save_notebook(ctx: ToolContext, args: SaveArgs) -> SavedNotebook:
    """Save the live notebook to disk now (the room also saves by itself shortly after each change)."""
    api_path = await notebook_path(ctx)
    nb = await open_notebook(ctx, api_path)
    await ctx.backend.save(api_path, NOTEBOOK)
    return SavedNotebook(path=api_path, cell_count=len(nb.ycells), document_version=issue_version(ctx, api_path, nb))
