"""Version history from the room's update store, and restoring a past version.

The store (see :mod:`.store`) holds every update of a document with a
timestamp. A version is the document after a group of updates: each agent edit
is its own version; a person's keystrokes less than ``history_group_seconds``
apart form one. A version's id is the store timestamp of its last update, and
its content is the replay of every update up to that time. Restoring applies
that content to the live document as a new change (a minimal diff for text,
cell by cell for notebooks): collaborators see it, and history keeps all of it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jupyter_ydoc import ydocs as YDOCS
from pycrdt import Doc
from pydantic import BaseModel, Field

from collab_mcp_core import (
    NotFound, ToolContext, ToolError, agent_of, apply_splices, change_summary, minimal_splices, text_of, tool,
)

from .authors import agent_transaction, author_log, update_key
from .changes import issue_version
from .config import DocumentPack
from .documents import DocumentRef, check_version, content_of, open_live, resolve, room_id, version_of
from .events import DocumentRestored
from .readings import remember


OVERWRITTEN_NOTE = (
    "These edits never reached the disk: when the document was next opened its file had changed on disk, "
    "and the file was loaded over them. restore_document_version with this version_id brings them back."
)


@dataclass
class StoredUpdate:
    update: bytes
    timestamp: float
    authors: list[str] = field(default_factory=list)
    agent: bool = False


async def stored_updates(ctx: ToolContext, ref: DocumentRef) -> list[StoredUpdate]:
    """Every update of the document in its room's store, oldest first, with known authors."""
    await open_live(ctx, ref)
    room = ctx.backend.find_room(room_id(ctx, ref))
    ystore = getattr(room, "ystore", None)
    if ystore is None:
        raise ToolError(f"{ref.path!r} has no update store (the server runs without one), so it has no history.")
    rows: list[StoredUpdate] = []
    agents: list[str | None] = []
    try:
        async for update, metadata, timestamp in ystore.read():
            rows.append(StoredUpdate(update, timestamp))
            agents.append(agent_of(metadata))
    except Exception:  # pycrdt-store raises YDocNotFound for a document with no updates yet
        rows, agents = [], []
    log = author_log()
    known = log.lookup([r.update for r in rows]) if log is not None else {}
    for row, agent in zip(rows, agents):
        if agent is not None:  # the store recorded the agent with the update (collab_mcp_core.update_store)
            row.authors, row.agent = [agent], True
        else:
            row.authors, row.agent = known.get(update_key(row.update), ([], False))
    rows.sort(key=lambda r: r.timestamp)  # stable: updates with one timestamp keep store order
    return rows


def group_versions(rows: list[StoredUpdate], gap: float, ends: Collection[float] = ()) -> list[list[StoredUpdate]]:
    """Split updates into versions: each agent edit alone, a person's burst of typing together.

    The first update (the document as first loaded into a room) is a version of its own, and
    an update stamped with one of ``ends`` (a version a changed file overwrote) ends its version.
    """
    groups: list[list[StoredUpdate]] = []
    for index, row in enumerate(rows):
        if index > 1:
            last = groups[-1][-1]
            same = (
                not row.agent and not last.agent and row.timestamp - last.timestamp <= gap
                and row.authors == last.authors and last.timestamp not in ends
            )
            if same:
                groups[-1].append(row)
                continue
        groups.append([row])
    return groups


def replay(ref: DocumentRef, rows: list[StoredUpdate]) -> Any:
    """A detached jupyter_ydoc document holding the replay of ``rows``."""
    doc = YDOCS.get(ref.kind[1], YDOCS["file"])(Doc())
    for row in rows:
        doc.ydoc.apply_update(row.update)
    return doc


class HistoryArgs(BaseModel):
    path: str = Field(description="Document path.")
    limit: int = Field(10, ge=1, description="Most versions to return.")


class Version(BaseModel):
    version_id: str = Field(description="Pass to restore_document_version.")
    timestamp: str = Field(description="When the version was reached (ISO 8601, UTC).")
    authors: list[str] = Field(description="Who made the change, where known.")
    agent_edit: bool = Field(description="True if an agent made it through a collab-mcp tool.")
    summary: str
    characters_added: int
    characters_removed: int
    cells_added: int | None = None
    cells_removed: int | None = None
    cells_changed: int | None = None
    length: int = Field(description="Length of the document at this version, in characters.")
    version: str = Field(description="The document's version (as get_document reports it) at this version.")
    note: str | None = Field(
        None, description="Set on a version whose edits never reached the disk: the file had changed on disk, "
        "so it was loaded over them. restore_document_version brings them back.",
    )


class History(BaseModel):
    path: str
    file_type: str
    versions: list[Version] = Field(description="Newest first.")
    total_versions: int


@tool(permission="read", title="Document history")
async def get_document_history(ctx: ToolContext, args: HistoryArgs) -> History:
    """List a document's versions, newest first: version_id (for restore_document_version), time, authors, change summary.

    A version with a note holds edits that never reached the disk (the file changed on disk meanwhile).
    """
    ref = await resolve(ctx)
    settings = ctx.config(DocumentPack)
    limit = min(args.limit, settings.max_history_limit)
    rows = await stored_updates(ctx, ref)
    overwritten = set(ctx.backend.overwritten_versions(room_id(ctx, ref)))
    replica = YDOCS.get(ref.kind[1], YDOCS["file"])(Doc())
    versions: list[Version] = []
    previous_content, previous_cells = "", {}
    for group in group_versions(rows, settings.history_group_seconds, overwritten):
        for row in group:
            replica.ydoc.apply_update(row.update)
        content = content_of(replica, ref)
        lost = group[-1].timestamp in overwritten
        if content == previous_content and versions and not lost:
            continue  # a change of saved state (dirty flag, file hash), not of the content
        cells = _cells(replica) if ref.is_notebook else {}
        version = _version(group, previous_content, content, previous_cells, cells, ref, version_of(replica))
        if lost:
            version.note = OVERWRITTEN_NOTE
        versions.append(version)
        previous_content, previous_cells = content, cells
    newest = list(reversed(versions))
    return History(path=ref.path, file_type=ref.file_type, versions=newest[:limit], total_versions=len(versions))


def _cells(doc: Any) -> dict[str, str]:
    return {str(cell.get("id")): json.dumps(cell, sort_keys=True) for cell in doc.get()["cells"]}


def _version(group: list[StoredUpdate], before: str, after: str, cells_before: dict[str, str],
             cells_after: dict[str, str], ref: DocumentRef, document_version: str) -> Version:
    last = group[-1]
    authors: list[str] = []
    for row in group:
        authors.extend(a for a in row.authors if a not in authors)
    added, removed = change_summary(before, after)
    summary = f"+{added} -{removed} characters"
    version = Version(
        version_id=repr(last.timestamp), timestamp=datetime.fromtimestamp(last.timestamp, UTC).isoformat(),
        authors=authors, agent_edit=any(r.agent for r in group), summary=summary,
        characters_added=added, characters_removed=removed, length=len(after), version=document_version,
    )
    if ref.is_notebook:
        version.cells_added = len(cells_after.keys() - cells_before.keys())
        version.cells_removed = len(cells_before.keys() - cells_after.keys())
        version.cells_changed = sum(1 for k in cells_after.keys() & cells_before.keys() if cells_after[k] != cells_before[k])
        version.summary = (
            f"{version.cells_added} cells added, {version.cells_removed} removed, {version.cells_changed} changed"
        )
    return version


class RestoreArgs(BaseModel):
    path: str = Field(description="Document path.")
    version_id: str = Field(description="A version_id from get_document_history.")
    expected_version: str | None = Field(None, description="Refuse unless the document is at this version now.")


class RestoreResult(BaseModel):
    path: str
    version_id: str
    version: str = Field(description="The document's new version after the restore.")
    length: int
    characters_added: int
    characters_removed: int


@tool(permission="write", title="Restore a version", destructive=True)
async def restore_document_version(ctx: ToolContext, args: RestoreArgs) -> RestoreResult:
    """Bring a document back to a past version as a new, live change (itself a version, so it can be undone)."""
    ref = await resolve(ctx)
    rows = await stored_updates(ctx, ref)
    try:
        wanted = float(args.version_id)
    except ValueError:
        wanted = None
    if wanted is None or not any(r.timestamp == wanted for r in rows):
        raise NotFound(
            f"No version {args.version_id!r} of {ref.path!r}. Use a version_id from get_document_history."
        )
    old = replay(ref, [r for r in rows if r.timestamp <= wanted])
    doc = await open_live(ctx, ref)
    current = content_of(doc, ref)
    check_version(args.expected_version, doc, ref)
    with agent_transaction(doc.ydoc, ctx):
        if ref.is_notebook:
            doc.set(old.get())  # cell by cell: unchanged cells are kept as they are
        else:
            ytext = text_of(doc)
            live = str(ytext)
            apply_splices(ytext, live, minimal_splices(live, str(text_of(old))))
    after = content_of(doc, ref)
    if not ref.is_notebook:
        remember(ctx, ref, None, after)  # the agent now expects the restored text
    added, removed = change_summary(current, after)
    version = issue_version(ctx, ref, doc, after)
    await ctx.emit(DocumentRestored(path=ref.path, version_id=args.version_id, version=version))
    return RestoreResult(path=ref.path, version_id=args.version_id, version=version, length=len(after),
                         characters_added=added, characters_removed=removed)
