"""The live shared notebook of a room: opening it, finding cells, versions, conflicts.

Every edit goes through the document browsers have open
(``backend.open_document``), fetched again for each operation because rooms
can be cleaned up between calls.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import TYPE_CHECKING, Any

from tornado.web import HTTPError

from collab_mcp_core import NOTEBOOK, Conflict, NotFound, ToolError, agent_origin

from .current_notebook import named_or_current

if TYPE_CHECKING:
    from jupyter_ydoc import YNotebook
    from pycrdt import Map

    from collab_mcp_core import ToolContext

CELL_TYPES = ("code", "markdown", "raw")


async def notebook_path(ctx: ToolContext, path: str | None = None) -> str:
    """The existing notebook a call is about: the one it named or the session's current one, which the
    host normalized and checked once as ``ctx.path``; a ToolError saying what is wrong otherwise."""
    if ctx.path is not None:
        return await ctx.backend.check_file(ctx.path, suffixes=(".ipynb",), kind="notebook")
    return await ctx.backend.require_file(named_or_current(ctx, path), suffixes=(".ipynb",), kind="notebook")


async def open_notebook(ctx: ToolContext, api_path: str) -> YNotebook:
    """The LIVE notebook of the room, opened on demand (the host closes rooms agents left idle)."""
    try:
        return await ctx.backend.open_document(api_path, NOTEBOOK)  # type: ignore[return-value]
    except HTTPError as err:  # the ContentsManager could not read the file as a notebook
        raise ToolError(f"{api_path!r} could not be opened as a notebook: {err.log_message or err}.") from None


def origin(ctx: ToolContext) -> str:
    """Transaction origin of the caller's edits: names the agent and its session (see collab_mcp_core.changes)."""
    return agent_origin(ctx)


def source_hash(source: str) -> str:
    """Short content hash of a cell source, for optimistic concurrency."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def cell_ids(nb: YNotebook) -> list[str]:
    cells = nb.ycells
    with nb.ydoc.transaction():
        return [str(cells[i].get("id")) for i in range(len(cells))]


def find_cell(
    nb: YNotebook, cell_id: str | None = None, index: int | None = None, *, hint: int | None = None
) -> tuple[int, Map]:
    """The index and Y map of a cell named by id (or by index where a tool allows it).

    ``hint`` is where the cell was last seen: checked first, so repeated
    lookups in a long notebook stay cheap.
    """
    cells = nb.ycells
    if cell_id is not None:
        with nb.ydoc.transaction():  # one transaction for the whole lookup, not one per cell
            n = len(cells)
            if hint is not None and 0 <= hint < n and cells[hint].get("id") == cell_id:
                return hint, cells[hint]
            i = cell_index(nb).position(cell_id)
            if i is not None:
                return i, cells[i]
        ids = cell_ids(nb)
        shown = ", ".join(ids[:20]) + (f" ... ({len(ids)} cells)" if len(ids) > 20 else "")
        raise NotFound(f"No cell with id {cell_id!r}. Cell ids in this notebook: {shown or 'none (it is empty)'}.")
    if index is not None:
        n = len(cells)
        if not -n <= index < n:
            raise ToolError(f"Cell index {index} is out of range: the notebook has {n} cells (valid: 0..{n - 1}).")
        i = index % n
        return i, cells[i]
    raise ToolError("Name a cell with cell_id (or index where the tool allows it).")


class CellIndex:
    """The cell ids of one notebook in document order, and a memo slot per cell, kept current by an observer.

    Scanning the cells costs about 5 µs a cell (10 ms in a 2,000-cell notebook,
    on every edit). The observer applies each insert and delete (anyone's) to a
    plain list instead, and the id -> position table is rebuilt from that list
    in pure Python when needed. Positions are still checked before use, so
    anything the observer could not follow costs one scan, never a wrong cell.

    The memo slots hold what a reader derived from a cell (``views.cell_views``
    keeps each cell's view there). A slot moves with its cell and is emptied
    when anything inside the cell changes, so a slot that holds something is
    current.
    """

    def __init__(self, nb: YNotebook) -> None:
        self._nb = weakref.ref(nb)
        self.ids: list[str] | None = None
        self._positions: dict[str, int] | None = None
        self._memo: list[Any] | None = None
        # Deep: an edit inside a cell must empty its memo slot.
        self._subscription = nb.ycells.observe_deep(self._changed)

    def position(self, cell_id: str) -> int | None:
        """The index of the cell with this id (the first, if a notebook repeats ids), or None."""
        nb = self._nb()
        if nb is None:
            return None
        cells = nb.ycells
        for rescan in (False, True):
            if rescan or self.ids is None:
                self.ids = [str(cells[i].get("id")) for i in range(len(cells))]
                self._positions = None
            if self._positions is None:
                self._positions = {}
                for i, known in enumerate(self.ids):
                    self._positions.setdefault(known, i)
            i = self._positions.get(cell_id)
            if i is not None and i < len(cells) and cells[i].get("id") == cell_id:
                return i
        return None

    def memo(self, n: int) -> list[Any]:
        """The memo slots, one per cell (``n`` cells now); None where nothing is remembered."""
        if self._memo is None or len(self._memo) != n:  # never filled, or the observer lost track
            self._memo = [None] * n
        return self._memo

    def _changed(self, events: list[Any]) -> None:
        self._positions = None
        try:
            # The cells array's own inserts and deletes first: the paths of changes inside
            # cells are positions after the whole transaction.
            for event in events:
                if not event.path:
                    self._shift(event.delta)
            if self._memo is not None:
                for event in events:
                    if event.path:
                        self._memo[event.path[0]] = None
        except Exception:  # never break the document's update handling; scan at the next lookup
            self.ids = self._memo = None

    def _shift(self, delta: list[dict[str, Any]]) -> None:
        at = 0
        for op in delta:
            if "retain" in op:
                at += op["retain"]
            elif "delete" in op:
                for kept in (self.ids, self._memo):
                    if kept is not None:
                        del kept[at : at + op["delete"]]
            elif "insert" in op:
                added = op["insert"]
                if self.ids is not None:
                    self.ids[at:at] = [str(cell.get("id")) for cell in added]
                if self._memo is not None:
                    self._memo[at:at] = [None] * len(added)
                at += len(added)


_indexes: weakref.WeakKeyDictionary[YNotebook, CellIndex] = weakref.WeakKeyDictionary()


def cell_index(nb: YNotebook) -> CellIndex:
    """The notebook's cell index, started at first use."""
    index = _indexes.get(nb)
    if index is None:
        index = _indexes[nb] = CellIndex(nb)
    return index


def check_cell_type(cell_type: str) -> str:
    if cell_type not in CELL_TYPES:
        raise ToolError(f"Unknown cell_type {cell_type!r}; valid types are code, markdown and raw.")
    return cell_type


def check_expected(ycell: Map, expected_source: str | None, expected_hash: str | None) -> None:
    """Refuse with Conflict when the cell changed since the caller read it."""
    if expected_source is None and expected_hash is None:
        return
    current = str(ycell["source"])
    if expected_source is not None and current != expected_source:
        raise Conflict(
            f"Cell {ycell.get('id')!r} changed since you read it (someone edited it). Its source is now:\n"
            f"{current}\nRead it again and retry with the new source.",
            source_hash=source_hash(current),
        )
    if expected_hash is not None and source_hash(current) != expected_hash:
        raise Conflict(
            f"Cell {ycell.get('id')!r} changed since you read it: its source hash is now "
            f"{source_hash(current)!r}, not {expected_hash!r}. Read the cell again and retry.",
            source_hash=source_hash(current),
        )


# What the caller last saw of each cell (ctx.readings): the base for merging its rewrites with people's edits since.
def remember_source(ctx: ToolContext, api_path: str, cell_id: str, source: str) -> None:
    """Record the source the caller has now seen (read it, or wrote it)."""
    ctx.readings.remember(("cell", api_path, cell_id), source)


def last_seen_source(ctx: ToolContext, api_path: str, cell_id: str) -> str | None:
    return ctx.readings.last_seen(("cell", api_path, cell_id))
