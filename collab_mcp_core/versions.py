"""What a document's version is: one meaning for every edit tool, notebooks and text alike.

A version is a short hash of the document's content-bearing shared types: a text
file's ``source``; a notebook's ``cells`` (sources, outputs, metadata, ids, order)
and ``meta`` (its metadata). jupyter_ydoc's ``state`` map is left out: the room
writes ``dirty`` (and the file's hash) into it on every save, so a hash of the
CRDT state vector changed whenever the file was saved, and a version must not.
So any content edit, by anyone (this agent, a person in JupyterLab, another
agent), gives a new version; a save never does; a document holding exactly the
content it held before is at that version again, and a replay of the update store
to a point in time (history) has the version a read then reported.

Hashing a 1,000-cell notebook takes about 10 ms, so it is done once per document
and then kept current: the content types are observed (``observe_deep``) and only
the cells a change touched are hashed again (about 0.05 ms an edit).
"""

from __future__ import annotations

import hashlib
import json
import weakref
from typing import TYPE_CHECKING, Any

from pycrdt import Array, Map, Text

from .errors import Conflict

if TYPE_CHECKING:
    from pycrdt import Doc

SAVE_STATE_ROOT = "state"  # jupyter_ydoc's map of save state (dirty, path, hash): not content


def _digest(value: Any) -> bytes:
    """A digest of a JSON value that does not depend on key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).digest()


class _TextVersion:
    """A text document's version: the hash of its text (as a read returns it)."""

    def __init__(self, ydoc: Doc) -> None:
        self.text = ydoc.get("source", type=Text)
        self.value: str | None = None
        self.subscription = self.text.observe(self._changed)

    def _changed(self, _event: Any) -> None:
        self.value = None  # inside the transaction: only forget; hashed when asked

    def get(self) -> str:
        if self.value is None:
            self.value = hashlib.sha256(str(self.text).encode("utf-8")).hexdigest()[:16]
        return self.value


class _NotebookVersion:
    """A notebook's version: the hash of its metadata's digest and each cell's, in order."""

    def __init__(self, ydoc: Doc) -> None:
        self.cells = ydoc.get("cells", type=Array)
        self.meta = ydoc.get("meta", type=Map)
        self.cell_digests: list[bytes | None] = []
        self.meta_digest: bytes | None = None
        self.value: str | None = None
        self.subscriptions = (self.cells.observe_deep(self._cells_changed), self.meta.observe_deep(self._meta_changed))

    def _meta_changed(self, _events: Any) -> None:
        self.meta_digest = self.value = None

    def _cells_changed(self, events: list[Any]) -> None:
        self.value = None
        nested = []
        for event in events:
            path = event.path
            if path:
                nested.append(path[0])
                continue
            index = 0  # the cell list itself: cells inserted or deleted (a move is both)
            for op in event.delta:
                if "retain" in op:
                    index += op["retain"]
                elif "delete" in op:
                    del self.cell_digests[index : index + op["delete"]]
                elif "insert" in op:
                    count = len(op["insert"])
                    self.cell_digests[index:index] = [None] * count
                    index += count
        for index in nested:  # positions after the change, so after the list's own changes
            if isinstance(index, int) and index < len(self.cell_digests):
                self.cell_digests[index] = None

    def get(self) -> str:
        if self.value is not None:
            return self.value
        if len(self.cell_digests) != len(self.cells) or all(d is None for d in self.cell_digests):
            self.cell_digests = [_digest(cell) for cell in json.loads(str(self.cells))]  # one export for all
        for index, known in enumerate(self.cell_digests):
            if known is None:
                self.cell_digests[index] = _digest(json.loads(str(self.cells[index])))
        if self.meta_digest is None:
            self.meta_digest = _digest(json.loads(str(self.meta)))
        parts = [self.meta_digest, *self.cell_digests]
        self.value = hashlib.sha256(b"".join(p for p in parts if p is not None)).hexdigest()[:16]
        return self.value


class _OtherVersion:
    """Any other document: the hash of every root but the save state, each as JSON."""

    def __init__(self, ydoc: Doc) -> None:
        self.ydoc = ydoc
        self.value: str | None = None
        self.watched: dict[str, Any] = {}

    def _changed(self, _events: Any) -> None:
        self.value = None

    def get(self) -> str:
        names = sorted(n for n in self.ydoc.keys() if n != SAVE_STATE_ROOT)
        for name in names:
            if name not in self.watched:
                root = next(r for n, r in self.ydoc.items() if n == name)
                self.watched[name] = (root, root.observe_deep(self._changed))
                self.value = None
        if self.value is None:
            parts = [_digest([name, json.loads(str(self.watched[name][0]))]) for name in names]
            self.value = hashlib.sha256(b"".join(parts)).hexdigest()[:16]
        return self.value


_VERSIONS: weakref.WeakKeyDictionary[Doc, Any] = weakref.WeakKeyDictionary()


def document_version(ydoc: Doc) -> str:
    """The document's version: changes with every content edit by anyone, never with a save (see above)."""
    tracker = _VERSIONS.get(ydoc)
    if tracker is None:
        names = set(ydoc.keys())
        kind = _NotebookVersion if "cells" in names else _TextVersion if "source" in names else _OtherVersion
        tracker = _VERSIONS[ydoc] = kind(ydoc)
    return tracker.get()


def check_version(ydoc: Doc, expected: str | None, what: str) -> None:
    """Raise Conflict when ``expected`` (a version the caller read) is not the document's version now."""
    if expected is not None and expected != document_version(ydoc):
        raise Conflict(
            f"{what} changed since version {expected!r} (now {document_version(ydoc)!r}): read it again, "
            "then repeat the edit against what it holds now.",
            current_version=document_version(ydoc),
        )
