"""What others changed in a notebook since a version: ``get_notebook_changes``, ``wait_for_notebook_changes``.

Every version a tool hands out (``document_version``) is registered with the
notebook's change log (:mod:`collab_mcp_core.changes`) together with the cell
views of that moment (the read memo: shared, so a snapshot costs a list of
references). The changes since a version are the difference between its
cells and the cells now, each named with the people (or other agents) whose
transactions touched it; cells only the caller itself changed are left out.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from collab_mcp_core import NOTEBOOK, Change, ChangeLog, ToolContext, ToolError, change_log, compact_diff, document_version, tool

from .current_notebook import PATH
from .live import notebook_path, open_notebook, origin
from .outputs import optional
from .views import CellView, remembered_views

if TYPE_CHECKING:
    from jupyter_ydoc import YNotebook

DELETED = "#deleted"  # the key of a transaction that removed cells (their ids are gone by then)
ADDED_SOURCE_CHARS = 500


def _cell_keys(nb: YNotebook) -> Any:
    """The ids of the cells a transaction's events touched (DELETED for removed ones)."""
    ycells = nb.ycells

    def keys(events: list[Any]) -> Iterator[str]:
        for event in events:
            if event.path:  # inside a cell: its position now
                yield str(ycells[event.path[0]].get("id"))
                continue
            for op in event.delta:
                if "insert" in op:
                    yield from (str(cell.get("id")) for cell in op["insert"])
                elif "delete" in op:
                    yield DELETED

    return keys


def notebook_log(ctx: ToolContext, api_path: str, nb: YNotebook) -> ChangeLog | None:
    """The change log of the notebook's room (None if the room is not open: nobody can change it then)."""
    room = ctx.backend.room_for(api_path, NOTEBOOK)
    if room is None or room.ydoc is not nb.ydoc:
        return None
    return change_log(room, nb.ycells, _cell_keys(nb))


def issue_version(ctx: ToolContext, api_path: str, nb: YNotebook) -> str:
    """The notebook's version now, registered so that changes since it can be told later."""
    version = document_version(nb.ydoc)
    log = notebook_log(ctx, api_path, nb)
    if log is not None:
        log.issue(version, api_path, lambda: _snapshot(nb))
    return version


def _snapshot(nb: YNotebook) -> list[CellView]:
    with nb.ydoc.transaction():
        return list(remembered_views(nb))


# -- the difference -------------------------------------------------------------------------


class CellChangeInfo(BaseModel):
    cell_id: str
    changes: list[str] = Field(description="added, removed, moved, cell_type, source, outputs, execution_count.")
    index: int | None = optional("Where the cell is now (absent when removed).")
    from_index: int | None = optional("Where it was at since_version (moved or removed cells).")
    cell_type: str
    diff: str | None = optional("The source change as a compact unified diff.")
    source: str | None = optional("The source of an added cell (cut).")
    authors: list[str] = Field(description="Who changed it (people by name; agents as 'name (agent)'); empty "
                               "when unknown.")


def _same_outputs(a: CellView, b: CellView) -> bool:
    return (a.outputs or []) == (b.outputs or [])


def cell_changes(old: list[CellView], new: list[CellView], changes: list[Change], own: str) -> list[CellChangeInfo]:
    """The cells that differ between two snapshots, with who changed them; cells only ``own`` touched are left out."""
    by_key: dict[str, list[Change]] = {}
    for change in changes:
        for key in change.keys:
            by_key.setdefault(key, []).append(change)

    def authors(key: str) -> list[str] | None:
        """Who else touched it (None: only the caller did, so it is left out)."""
        touched = by_key.get(key, [])
        others = [c for c in touched if c.origin != own]
        if touched and not others:
            return None
        return sorted({c.who for c in others})

    old_at = {v.cell_id: i for i, v in enumerate(old)}
    new_at = {v.cell_id: i for i, v in enumerate(new)}
    common_old = [v.cell_id for v in old if v.cell_id in new_at]
    common_new = [v.cell_id for v in new if v.cell_id in old_at]
    matcher = difflib.SequenceMatcher(None, common_old, common_new, autojunk=False)
    in_place = {common_new[b.b + k] for b in matcher.get_matching_blocks() for k in range(b.size)}
    found: list[CellChangeInfo] = []
    for i, view in enumerate(new):
        before = old[old_at[view.cell_id]] if view.cell_id in old_at else None
        if before is view:
            continue  # the same memo view: nothing in the cell changed
        info = CellChangeInfo(cell_id=view.cell_id, changes=[], index=i, cell_type=view.cell_type, authors=[])
        if before is None:
            info.changes.append("added")
            info.source = view.source[:ADDED_SOURCE_CHARS]
        else:
            if view.cell_id not in in_place:
                info.changes.append("moved")
                info.from_index = old_at[view.cell_id]
            if before.cell_type != view.cell_type:
                info.changes.append("cell_type")
            if before.source != view.source:
                info.changes.append("source")
                info.diff = compact_diff(before.source, view.source)
            if not _same_outputs(before, view):
                info.changes.append("outputs")
            if before.execution_count != view.execution_count:
                info.changes.append("execution_count")
        if not info.changes:
            continue
        who = authors(view.cell_id)
        if who is None:
            continue
        info.authors = who
        found.append(info)
    removed_by = authors(DELETED)
    if removed_by is not None:
        for i, view in enumerate(old):
            if view.cell_id not in new_at:
                found.append(CellChangeInfo(cell_id=view.cell_id, changes=["removed"], from_index=i,
                                            cell_type=view.cell_type, authors=removed_by))
    return found


# -- tools ----------------------------------------------------------------------------------


class ChangesArgs(BaseModel):
    path: str | None = PATH
    since_version: str = Field(description="A document_version a read or edit of this notebook returned.")


class WaitChangesArgs(ChangesArgs):
    timeout: float = Field(30.0, gt=0, le=300, description="Seconds to wait for someone else's change.")


class NotebookChanges(BaseModel):
    path: str
    since_version: str
    document_version: str = Field(description="The version now: pass it as since_version next time.")
    cells: list[CellChangeInfo] = Field(description="The cells others changed, added, moved or removed.")
    cell_count: int
    timed_out: bool | None = optional("wait_for_notebook_changes: true when nobody else changed it in time.")


async def _changes(ctx: ToolContext, path: str | None, since: str, *, wait: float | None) -> NotebookChanges:
    api_path = await notebook_path(ctx, path)
    nb = await open_notebook(ctx, api_path)
    log = notebook_log(ctx, api_path, nb)
    if log is None:  # open_notebook opened the room; only a room closed in between gets here
        raise ToolError(f"The room of {api_path!r} closed just now, and with it what changed since {since!r}. "
                        "Read the notebook again.")
    seq, old = log.at(since, api_path)
    timed_out = None
    if wait is not None:
        timed_out = not await log.wait_for_others(seq, origin(ctx), wait)
        nb = await open_notebook(ctx, api_path)
    with nb.ydoc.transaction():
        new = list(remembered_views(nb))
    found = cell_changes(old, new, log.after(seq), origin(ctx))
    return NotebookChanges(
        path=api_path, since_version=since, document_version=issue_version(ctx, api_path, nb), cells=found,
        cell_count=len(new), timed_out=timed_out,
    )


@tool(permission="read", title="What others changed")
async def get_notebook_changes(ctx: ToolContext, args: ChangesArgs) -> NotebookChanges:
    """What others (people, other agents) changed in the notebook since since_version: cells added, removed,
    moved, sources (as a diff), outputs, with who changed them. Your own edits are left out."""
    return await _changes(ctx, args.path, args.since_version, wait=None)


@tool(permission="read", title="Wait for others' changes")
async def wait_for_notebook_changes(ctx: ToolContext, args: WaitChangesArgs) -> NotebookChanges:
    """Wait until someone else changes the notebook after since_version (your own edits do not count), then
    return what changed as get_notebook_changes does; timed_out=true if nobody did within timeout."""
    return await _changes(ctx, args.path, args.since_version, wait=args.timeout)
