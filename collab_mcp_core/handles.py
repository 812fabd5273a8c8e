"""Live document handles: edit a notebook or a text file without knowing pycrdt.

A handle wraps the LIVE shared document of a room (what people have open in
JupyterLab): every change is a change to it, seen by everyone at once, and made
in place, so what someone types meanwhile merges instead of being clobbered.
Positions are characters (Unicode code points), never pycrdt's UTF-8 bytes.
Get one with ``await ctx.open_notebook(path)`` or ``await ctx.open_text(path)``;
``handle.ydoc`` is the raw pycrdt document for what a handle does not cover.

A document's version (:func:`~collab_mcp_core.versions.document_version`) changes
whenever anyone changes the document's content (a save does not change it), and
is the ``expected_version`` edit tools accept back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import NotFound, ToolError
from .versions import document_version
from .text import replace_text, splice_text

if TYPE_CHECKING:
    from jupyter_ydoc import YNotebook
    from jupyter_ydoc.ybasedoc import YBaseDoc
    from pycrdt import Doc, Map, Text

CELL_TYPES = ("code", "markdown", "raw")


def state_vector(ydoc: Doc) -> dict[int, int]:
    """What ``ydoc`` has seen of each client: ``{client id: clock of its next item}``.

    An item ``(client, clock)`` belongs to the document once ``clock < state_vector(ydoc)[client]``
    (a relative position naming an item the document has not received yet makes pycrdt panic).
    """
    state, position = ydoc.get_state(), 0  # varuint count, then client and clock varuints

    def varuint() -> int:
        nonlocal position
        value, shift = 0, 0
        while True:
            byte = state[position]
            position += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    count = varuint()
    return {varuint(): varuint() for _ in range(count)}


def text_of(doc: YBaseDoc) -> Text:
    """The pycrdt ``Text`` of a text document (jupyter_ydoc keeps it private)."""
    return doc._ysource  # noqa: SLF001 - jupyter_ydoc has no public accessor


class _Transactions:
    """One transaction, with the caller's origin, around several changes."""

    ydoc: Doc
    origin: str

    @property
    def version(self) -> str:
        """The document's version now (see :func:`document_version`)."""
        return document_version(self.ydoc)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group changes: people see them together, and undo them together."""
        with self.ydoc.transaction(origin=self.origin):
            yield


class TextHandle(_Transactions):
    """A live text document (markdown, code, plain text), in characters."""

    def __init__(self, doc: YBaseDoc, origin: str) -> None:
        self.document = doc
        self.ydoc: Doc = doc.ydoc
        self.text: Text = text_of(doc)
        self.origin = origin

    def __str__(self) -> str:
        return str(self.text)

    def __len__(self) -> int:
        return len(str(self.text))

    def _check_range(self, start: int, end: int) -> None:
        length = len(self)
        if not 0 <= start <= end <= length:
            raise ToolError(f"Range {start}..{end} is outside the text, which has {length} characters (0..{length}).")

    def insert(self, position: int, text: str) -> None:
        """Insert ``text`` before character ``position`` (``len(handle)`` appends)."""
        self._check_range(position, position)
        with self.transaction():
            splice_text(self.text, position, 0, text)

    def delete(self, start: int, end: int) -> None:
        """Delete the characters from ``start`` up to (not including) ``end``."""
        self._check_range(start, end)
        with self.transaction():
            splice_text(self.text, start, end - start, "")

    def replace(self, start: int, end: int, text: str) -> None:
        """Replace the characters from ``start`` to ``end`` with ``text``."""
        self._check_range(start, end)
        with self.transaction():
            splice_text(self.text, start, end - start, text)

    def set(self, text: str) -> bool:
        """Make the whole text ``text`` with the smallest in-place changes; False if it already was."""
        with self.transaction():
            return replace_text(self.text, text)


class CellHandle:
    """One cell of a live notebook, named by its id: it follows the cell through moves."""

    def __init__(self, notebook: NotebookHandle, cell_id: str) -> None:
        self.notebook = notebook
        self.id = cell_id

    @property
    def index(self) -> int:
        """Where the cell is now."""
        return self.notebook.index_of(self.id)

    @property
    def ycell(self) -> Map:
        """The cell's pycrdt ``Map`` (looked up again: a move re-creates it)."""
        return self.notebook.document.ycells[self.index]

    @property
    def cell_type(self) -> str:
        return str(self.ycell.get("cell_type"))

    @property
    def source(self) -> str:
        return str(self.ycell.get("source", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        """A copy of the cell's metadata (change it with :meth:`set_metadata`)."""
        metadata = self.ycell.get("metadata")
        return dict(metadata.to_py() if hasattr(metadata, "to_py") else metadata or {})

    @property
    def outputs(self) -> list[dict[str, Any]]:
        """A copy of a code cell's outputs (``[]`` for other cells)."""
        outputs = self.ycell.get("outputs")
        return list(outputs.to_py() if hasattr(outputs, "to_py") else outputs or [])

    def set_source(self, source: str) -> bool:
        """Make the source ``source`` with in-place changes; False if it already was."""
        ysource = self.ycell["source"]  # a local reference: += on the item would empty it
        with self.notebook.transaction():
            return replace_text(ysource, source)

    def set_metadata(self, key: str, value: Any) -> None:
        """Set one metadata key (``tags``, ``collapsed``...); None removes it."""
        ycell = self.ycell
        with self.notebook.transaction():
            metadata = ycell.get("metadata")
            if metadata is None or not hasattr(metadata, "to_py"):
                from pycrdt import Map

                ycell["metadata"] = metadata = Map(dict(metadata or {}))
            if value is None:
                metadata.pop(key, None)
            else:
                metadata[key] = value

    def clear_outputs(self) -> None:
        """Remove a code cell's outputs and execution count."""
        ycell = self.ycell
        if ycell.get("cell_type") != "code":
            return
        with self.notebook.transaction():
            outputs = ycell.get("outputs")
            if outputs is not None:
                outputs.clear()
            ycell["execution_count"] = None


class NotebookHandle(_Transactions):
    """A live notebook: cells by id and index, inserted, moved, deleted, edited in place."""

    def __init__(self, notebook: YNotebook, origin: str) -> None:
        self.document = notebook
        self.ydoc: Doc = notebook.ydoc
        self.origin = origin

    def __len__(self) -> int:
        return len(self.document.ycells)

    def cell_ids(self) -> list[str]:
        cells = self.document.ycells
        with self.ydoc.transaction():
            return [str(cells[i].get("id")) for i in range(len(cells))]

    def index_of(self, cell_id: str) -> int:
        """The index of cell ``cell_id``, or NotFound listing the ids there are."""
        ids = self.cell_ids()
        if cell_id not in ids:
            shown = ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else "")
            raise NotFound(f"No cell {cell_id!r} in the notebook. Its cells: {shown or 'none'}.")
        return ids.index(cell_id)

    def cell(self, cell_id: str) -> CellHandle:
        """The cell with id ``cell_id``."""
        self.index_of(cell_id)  # NotFound if there is no such cell
        return CellHandle(self, cell_id)

    def cell_at(self, index: int) -> CellHandle:
        """The cell at ``index`` (negative counts from the end)."""
        n = len(self)
        if not -n <= index < n:
            raise ToolError(f"Cell index {index} is out of range: the notebook has {n} cells (0..{n - 1}).")
        return CellHandle(self, str(self.document.ycells[index].get("id")))

    def cells(self) -> list[CellHandle]:
        """Every cell, in order."""
        return [CellHandle(self, cell_id) for cell_id in self.cell_ids()]

    def insert(self, index: int, source: str = "", cell_type: str = "code",
               metadata: dict[str, Any] | None = None) -> CellHandle:
        """Insert a new cell at ``index`` (``len(handle)`` appends) and return it."""
        n = len(self)
        if not 0 <= index <= n:
            raise ToolError(f"Insert position {index} is out of range: the notebook has {n} cells (0..{n}).")
        if cell_type not in CELL_TYPES:
            raise ToolError(f"Unknown cell type {cell_type!r}; use one of {', '.join(CELL_TYPES)}.")
        cell: dict[str, Any] = {"cell_type": cell_type, "source": source, "metadata": metadata or {}}
        if cell_type == "code":
            cell.update(outputs=[], execution_count=None)
        ycell = self.document.create_ycell(cell)
        with self.transaction():
            self.document.ycells.insert(index, ycell)
        return CellHandle(self, str(ycell.get("id")))

    def delete(self, cell_id: str) -> None:
        """Delete cell ``cell_id``."""
        index = self.index_of(cell_id)
        with self.transaction():
            del self.document.ycells[index]

    def move(self, cell_id: str, to_index: int) -> None:
        """Move cell ``cell_id`` to ``to_index``."""
        n = len(self)
        if not 0 <= to_index < n:
            raise ToolError(f"Target index {to_index} is out of range: the notebook has {n} cells (0..{n - 1}).")
        index = self.index_of(cell_id)
        if index != to_index:
            # Delete and re-create (same id) in one transaction: JupyterLab's Yjs knows no move.
            cells = self.document.ycells
            with self.transaction():
                cell = cells[index].to_py()
                del cells[index]
                cells.insert(to_index, self.document.create_ycell(cell))
