"""Tools that read and edit cells of the live shared notebook.

Each change is one ``ydoc.transaction`` whose origin names the agent, so a
person with the notebook open sees it at once and can undo it as one step.
Sources are edited in place (only the differing ranges), so a person typing
in the same cell keeps their characters. Every check happens before the first
change: a refused call changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal
from uuid import uuid4

from pydantic import AliasChoices, BaseModel, Field, WithJsonSchema

from collab_mcp_core import (
    Conflict, Splice, ToolContext, ToolError, ToolOutput, apply_splices, character_splices, check_version, rebase, replace_text, tool,
)

from .config import NotebookPack
from .current_notebook import PATH
from .changes import issue_version
from .events import CellDeleted, CellInserted, CellMoved, CellUpdated
from .execution import TIMEOUT, WAIT, check_timeout, code_of, run_cell
from .executions import ExecutionResult, check_wait, result_text
from .live import (
    check_cell_type,
    check_expected,
    find_cell,
    last_seen_source,
    notebook_path,
    open_notebook,
    origin,
    remember_source,
    source_hash,
)
from .outputs import OutputBudget, optional
from .views import CellView, cell_view

if TYPE_CHECKING:
    from jupyter_ydoc import YNotebook
    from pycrdt import Map


CellType = Literal["code", "markdown", "raw"]

CELL_ID = Field(description="Cell id.")
EXPECTED_SOURCE = Field(None, description="Refuse if the cell's source is no longer this.")
EXPECTED_HASH = Field(None, description="Refuse if the cell's source_hash is no longer this.")
EXPECTED_VERSION = Field(None, description="Refuse unless document_version is this.")


class CellChange(BaseModel):
    """The cell after a change."""

    path: str
    cell_id: str
    index: int
    cell_type: str
    source_hash: str | None = None
    changed: bool = Field(True, description="False when the document already held what was asked.")
    merged: bool = Field(
        False, description="True when edits people made since you read the cell were kept around your change."
    )
    cell_count: int
    document_version: str
    # Declared loosely: the run's own schema is execute_notebook_cell's, and tools/list stays lean.
    execution: Annotated[
        ExecutionResult | None,
        WithJsonSchema({"type": "object", "description": "With execute=true: the run, as execute_notebook_cell "
                        "returns it."}),
    ] = optional()


EXECUTE = Field(False, description="Run the cell after the edit.")


def _change(ctx: ToolContext, nb: YNotebook, path: str, index: int, ycell: Map | None, changed: bool = True) -> CellChange:
    source = str(ycell["source"]) if ycell is not None else None
    return CellChange(
        path=path,
        cell_id=str(ycell.get("id")) if ycell is not None else "",
        index=index,
        cell_type=str(ycell.get("cell_type")) if ycell is not None else "",
        source_hash=source_hash(source) if source is not None else None,
        changed=changed,
        cell_count=len(nb.ycells),
        document_version=issue_version(ctx, path, nb),
    )


def new_cell(cell_type: str, source: str, cell_id: str | None = None, metadata: dict | None = None) -> dict:
    """An nbformat 4.5 cell (``create_ycell`` turns it into the shared types)."""
    cell: dict = {
        "id": cell_id or uuid4().hex[:16],
        "cell_type": cell_type,
        "source": source,
        "metadata": metadata or {},
    }
    if cell_type == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


# -- read --------------------------------------------------------------------------------------


class ReadCellArgs(BaseModel):
    path: str | None = PATH
    cell_id: str | None = Field(None, description="Cell id (or give index).")
    index: int | None = Field(None, description="Cell index; negative counts from the end.")
    include_outputs: bool = Field(True, description="Return outputs (within the output budget).")


class ReadCell(CellView):
    """One cell, and the notebook it is in."""

    path: str
    document_version: str = Field(description="The notebook's version: pass it as since_version.")


@tool(permission="read", title="Read a cell", output=ReadCell)
async def read_notebook_cell(ctx: ToolContext, args: ReadCellArgs) -> ToolOutput:
    """Read one cell of the live notebook (unsaved edits included) by id or index."""
    if args.cell_id is None and args.index is None:
        raise ToolError("Give cell_id (preferred) or index of the cell to read.")
    api_path = await notebook_path(ctx)
    nb = await open_notebook(ctx, api_path)
    index, ycell = find_cell(nb, args.cell_id, None if args.cell_id is not None else args.index)
    budget = OutputBudget.from_config(ctx.config(NotebookPack)) if args.include_outputs else None
    version = issue_version(ctx, api_path, nb)
    view = ReadCell(path=api_path, document_version=version, **dict(cell_view(ycell, index, budget)))
    remember_source(ctx, api_path, view.cell_id, view.source)
    if budget is not None:
        view.outputs_omitted = budget.fit([view.outputs or []])[0] or None
    return ToolOutput(structured=view, extra=list(budget.images) if budget else [])


# -- insert ------------------------------------------------------------------------------------


class InsertCellArgs(BaseModel):
    path: str | None = PATH
    content: str = Field(description="The new cell's source.")
    index: int = Field(-1, validation_alias=AliasChoices("index", "position"), description="Cell index the new cell takes; -1 appends.")
    cell_type: CellType = "code"
    execute: bool = EXECUTE
    timeout: float | None = TIMEOUT
    wait: float | None = WAIT
    expected_version: str | None = EXPECTED_VERSION


@tool(permission="write", title="Insert a cell", destructive=False, output=CellChange)
async def insert_notebook_cell(ctx: ToolContext, args: InsertCellArgs) -> ToolOutput:
    """Insert a cell into the live notebook (people see it appear); returns its cell_id (and the run, with execute)."""
    api_path = await notebook_path(ctx)
    check_cell_type(args.cell_type)
    if args.execute:
        await check_run(ctx, api_path, args.cell_type, args.content, args.timeout, args.wait)
    nb = await open_notebook(ctx, api_path)
    check_version(nb.ydoc, args.expected_version, f"Notebook {api_path!r}")
    n = len(nb.ycells)
    if not (args.index == -1 or 0 <= args.index <= n):
        raise ToolError(
            f"index {args.index} is out of range: use 0..{n} (the notebook has {n} cells) or -1 to append."
        )
    index = n if args.index == -1 else args.index
    ycell = nb.create_ycell(new_cell(args.cell_type, args.content))
    with nb.ydoc.transaction(origin=origin(ctx)):
        nb.ycells.insert(index, ycell)
    result = _change(ctx, nb, api_path, index, ycell)
    remember_source(ctx, api_path, result.cell_id, args.content)
    await ctx.emit(CellInserted(path=api_path, cell_id=result.cell_id, index=index, cell_type=args.cell_type))
    return await _maybe_run(ctx, result, args.execute, args.timeout, args.wait)


async def check_run(
    ctx: ToolContext, api_path: str, cell_type: str, source: str, timeout: float | None,
    wait: float | None,
) -> None:
    """Before an edit that runs the cell: refuse what would fail, so a refused call changes nothing."""
    await ctx.check_permission("execute", api_path)
    code_of({"cell_type": cell_type, "source": source}, "the edited cell")
    check_wait(ctx, wait, check_timeout(ctx, timeout))


async def _maybe_run(
    ctx: ToolContext, change: CellChange, execute: bool, timeout: float | None, wait: float | None
) -> ToolOutput:
    """The change, with the cell's run when asked to execute it."""
    if not execute:
        return ToolOutput(structured=change)
    change.execution, images = await run_cell(ctx, change.path, change.cell_id, timeout, wait, None)
    return ToolOutput(structured=change, text=_change_text(change), extra=images)


def _change_text(change: CellChange) -> str:
    head = change.model_dump_json(exclude={"execution"})
    return head + "\n" + result_text(change.execution) if change.execution else head


# -- update and edit ---------------------------------------------------------------------------


class UpdateCellArgs(BaseModel):
    path: str | None = PATH
    cell_id: str = CELL_ID
    content: str = Field(description="The cell's whole new source.")
    cell_type: CellType | None = Field(None, description="Change the cell's type.")
    expected_source: str | None = EXPECTED_SOURCE
    expected_hash: str | None = EXPECTED_HASH
    execute: bool = EXECUTE
    timeout: float | None = TIMEOUT
    wait: float | None = WAIT
    expected_version: str | None = EXPECTED_VERSION


@tool(permission="write", title="Update a cell", destructive=True, idempotent=True, output=CellChange)
async def update_notebook_cell(ctx: ToolContext, args: UpdateCellArgs) -> ToolOutput:
    """Replace a cell's source (only differing characters change), optionally its type (outputs dropped).

    Others' edits since your last read are kept (merged=true); an overlap is refused.
    """
    api_path = await notebook_path(ctx)
    if args.cell_type is not None:
        check_cell_type(args.cell_type)
    nb = await open_notebook(ctx, api_path)
    check_version(nb.ydoc, args.expected_version, f"Notebook {api_path!r}")
    index, ycell = find_cell(nb, args.cell_id)
    check_expected(ycell, args.expected_source, args.expected_hash)
    if args.execute:
        cell_type = args.cell_type or str(ycell.get("cell_type"))
        await check_run(ctx, api_path, cell_type, args.content, args.timeout, args.wait)
    retype = args.cell_type is not None and args.cell_type != ycell.get("cell_type")
    source = ycell["source"]  # a local reference: re-assigning the key would empty the Text
    current = str(source)
    edits = None
    if not retype and args.expected_source is None and args.expected_hash is None:
        base = last_seen_source(ctx, api_path, args.cell_id)
        if base is not None and base != current:  # people changed the cell since this caller saw it
            try:  # code rarely merges as meant where two changes touch: those conflict too
                edits = rebase(character_splices(base, args.content), character_splices(base, current),
                               touching_conflicts=True)
            except Conflict:
                raise Conflict(
                    f"Cell {args.cell_id!r} changed since you read it, in the part you are changing. Its source "
                    f"is now:\n{current}\nRead it again and retry on top of it.",
                    source_hash=source_hash(current),
                ) from None
    with nb.ydoc.transaction(origin=origin(ctx)):
        if retype:
            metadata = ycell["metadata"].to_py() if "metadata" in ycell else {}
            replacement = nb.create_ycell(new_cell(args.cell_type, args.content, args.cell_id, metadata))
            del nb.ycells[index]
            nb.ycells.insert(index, replacement)
            ycell, changed = replacement, True
        elif edits is not None:
            apply_splices(source, current, edits)
            changed = bool(edits)
        else:
            changed = replace_text(source, args.content)
    result = _change(ctx, nb, api_path, index, ycell, changed)
    result.merged = edits is not None
    remember_source(ctx, api_path, args.cell_id, args.content)  # what the caller knows: its own text
    if changed:
        await ctx.emit(
            CellUpdated(path=api_path, cell_id=args.cell_id, index=index, change="cell_type" if retype else "source")
        )
    return await _maybe_run(ctx, result, args.execute, args.timeout, args.wait)


class EditCellArgs(BaseModel):
    path: str | None = PATH
    cell_id: str = CELL_ID
    old: str = Field(description="Exact text to find.")
    new: str = Field(description="Its replacement.")
    replace_all: bool = Field(False, description="Replace every occurrence.")
    expected_source: str | None = EXPECTED_SOURCE
    expected_hash: str | None = EXPECTED_HASH
    expected_version: str | None = EXPECTED_VERSION


@tool(permission="write", title="Edit text in a cell", destructive=True)
async def edit_notebook_cell(ctx: ToolContext, args: EditCellArgs) -> CellChange:
    """Replace an exact string in a cell's source in place; refused if `old` is absent or, without replace_all, not unique."""
    if args.old == "":
        raise ToolError("old must not be empty; to rewrite the whole cell use update_notebook_cell.")
    api_path = await notebook_path(ctx)
    nb = await open_notebook(ctx, api_path)
    check_version(nb.ydoc, args.expected_version, f"Notebook {api_path!r}")
    index, ycell = find_cell(nb, args.cell_id)
    check_expected(ycell, args.expected_source, args.expected_hash)
    source = ycell["source"]
    current = str(source)
    starts = _occurrences(current, args.old)
    if not starts:
        raise ToolError(
            f"The text to replace was not found in cell {args.cell_id!r}. Its source is:\n{current}\n"
            "Copy the text exactly (whitespace included) or use update_notebook_cell."
        )
    if len(starts) > 1 and not args.replace_all:
        raise ToolError(
            f"The text to replace occurs {len(starts)} times in cell {args.cell_id!r}. Include more surrounding "
            "text so it occurs once, or pass replace_all=true."
        )
    with nb.ydoc.transaction(origin=origin(ctx)):
        apply_splices(source, current, [Splice(start, len(args.old), args.new) for start in starts])
    result = _change(ctx, nb, api_path, index, ycell, args.old != args.new)
    base = last_seen_source(ctx, api_path, args.cell_id)
    if base is not None and (args.replace_all or base.count(args.old) == 1):
        # The caller's view of the cell, with its own replacement: not what others typed meanwhile.
        remember_source(ctx, api_path, args.cell_id, base.replace(args.old, args.new))
    if result.changed:
        await ctx.emit(CellUpdated(path=api_path, cell_id=args.cell_id, index=index, change="source"))
    return result


def _occurrences(text: str, sub: str) -> list[int]:
    """Non-overlapping start offsets (in characters) of ``sub`` in ``text``."""
    starts, i = [], text.find(sub)
    while i != -1:
        starts.append(i)
        i = text.find(sub, i + len(sub))
    return starts


# -- delete and move ---------------------------------------------------------------------------


class DeleteCellArgs(BaseModel):
    path: str | None = PATH
    cell_id: str = CELL_ID
    expected_source: str | None = EXPECTED_SOURCE
    expected_hash: str | None = EXPECTED_HASH
    expected_version: str | None = EXPECTED_VERSION


@tool(permission="write", title="Delete a cell", destructive=True)
async def delete_notebook_cell(ctx: ToolContext, args: DeleteCellArgs) -> CellChange:
    """Delete a cell from the live notebook (people can undo it in JupyterLab)."""
    api_path = await notebook_path(ctx)
    nb = await open_notebook(ctx, api_path)
    check_version(nb.ydoc, args.expected_version, f"Notebook {api_path!r}")
    index, ycell = find_cell(nb, args.cell_id)
    check_expected(ycell, args.expected_source, args.expected_hash)
    cell_type = str(ycell.get("cell_type"))
    with nb.ydoc.transaction(origin=origin(ctx)):
        del nb.ycells[index]
    result = _change(ctx, nb, api_path, index, None)
    result.cell_id, result.cell_type = args.cell_id, cell_type
    await ctx.emit(CellDeleted(path=api_path, cell_id=args.cell_id, index=index))
    return result


class MoveCellArgs(BaseModel):
    path: str | None = PATH
    cell_id: str = CELL_ID
    index: int = Field(validation_alias=AliasChoices("index", "position"), description="Cell index after the move; -1: the end.")
    expected_version: str | None = EXPECTED_VERSION


@tool(permission="write", title="Move a cell", destructive=False, idempotent=True)
async def move_notebook_cell(ctx: ToolContext, args: MoveCellArgs) -> CellChange:
    """Move a cell to another position in the live notebook; it keeps its id, source and outputs."""
    api_path = await notebook_path(ctx)
    nb = await open_notebook(ctx, api_path)
    check_version(nb.ydoc, args.expected_version, f"Notebook {api_path!r}")
    index, ycell = find_cell(nb, args.cell_id)
    n = len(nb.ycells)
    if not (args.index == -1 or 0 <= args.index < n):
        raise ToolError(f"index {args.index} is out of range: use 0..{n - 1} (the notebook has {n} cells) or -1.")
    target = n - 1 if args.index == -1 else args.index
    if target == index:
        return _change(ctx, nb, api_path, index, ycell, changed=False)
    # Delete and re-create in one transaction: Yjs 13 clients (JupyterLab) do not know a move operation.
    cell = ycell.to_py()
    with nb.ydoc.transaction(origin=origin(ctx)):
        del nb.ycells[index]
        moved = nb.create_ycell(cell)
        nb.ycells.insert(target, moved)
    result = _change(ctx, nb, api_path, target, moved)
    await ctx.emit(CellMoved(path=api_path, cell_id=args.cell_id, index=target, from_index=index))
    return result


# -- outputs -----------------------------------------------------------------------------------


class ClearOutputsArgs(BaseModel):
    path: str | None = PATH
    cell_id: str | None = Field(None, description="One code cell; omit to clear every cell's outputs.")
    expected_version: str | None = EXPECTED_VERSION


class ClearedOutputs(BaseModel):
    path: str
    cleared: list[str] = Field(description="Ids of the cells whose outputs were cleared.")
    document_version: str


@tool(permission="write", title="Clear outputs", destructive=True, idempotent=True)
async def clear_notebook_outputs(ctx: ToolContext, args: ClearOutputsArgs) -> ClearedOutputs:
    """Clear the outputs and execution counts of one code cell, or of the whole notebook."""
    api_path = await notebook_path(ctx)
    nb = await open_notebook(ctx, api_path)
    check_version(nb.ydoc, args.expected_version, f"Notebook {api_path!r}")
    if args.cell_id is not None:
        index, ycell = find_cell(nb, args.cell_id)
        if ycell.get("cell_type") != "code":
            raise ToolError(f"Cell {args.cell_id!r} is a {ycell.get('cell_type')} cell; only code cells have outputs.")
        targets = [(index, ycell)]
    else:
        ycells = nb.ycells
        with nb.ydoc.transaction():
            targets = [(i, ycells[i]) for i in range(len(ycells)) if ycells[i].get("cell_type") == "code"]
    cleared = []
    with nb.ydoc.transaction(origin=origin(ctx)):
        for _index, ycell in targets:
            outputs = ycell.get("outputs")
            if (outputs is not None and len(outputs)) or ycell.get("execution_count") is not None:
                if outputs is not None:
                    outputs.clear()
                ycell["execution_count"] = None
                cleared.append(str(ycell.get("id")))
    for index, ycell in targets:
        if str(ycell.get("id")) in cleared:
            await ctx.emit(CellUpdated(path=api_path, cell_id=str(ycell.get("id")), index=index, change="outputs"))
    return ClearedOutputs(path=api_path, cleared=cleared, document_version=issue_version(ctx, api_path, nb))
