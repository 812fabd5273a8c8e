"""What others changed in a text document since a version: ``get_document_changes``, ``wait_for_document_changes``.

Every version a read or edit of a text document hands out is registered with
the document's change log (:mod:`collab_mcp_core.changes`) with the text of
that moment. The changes since a version are a compact diff of that text
against the live one, with who made them; when only the caller changed the
document since, nothing is reported. (Notebooks: the notebook pack's
``get_notebook_changes`` says it cell by cell.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from collab_mcp_core import (
    ChangeLog, ToolContext, ToolError, agent_origin, change_log, change_summary, compact_diff, text_of, tool,
)

from .documents import DocumentRef, open_live, require_text, resolve, room_id, version_of

if TYPE_CHECKING:
    from jupyter_ydoc.ybasedoc import YBaseDoc

MAX_DIFF_CHARS = 4000


def _no_keys(events: Any) -> tuple[str, ...]:
    return ()  # a text document is one thing: every change touches it


def document_log(ctx: ToolContext, ref: DocumentRef, doc: YBaseDoc) -> ChangeLog | None:
    """The change log of a text document's room (None for notebooks, or if its room is not open)."""
    if ref.is_notebook:
        return None
    room = ctx.backend.find_room(room_id(ctx, ref, create=False))
    if room is None or room.ydoc is not doc.ydoc:
        return None
    return change_log(room, text_of(doc), _no_keys)


def issue_version(ctx: ToolContext, ref: DocumentRef, doc: YBaseDoc, content: str) -> str:
    """The document's version now (``content`` is its text now), registered so changes since it can be told."""
    version = version_of(doc)
    log = document_log(ctx, ref, doc)
    if log is not None:
        log.issue(version, ref.path, lambda: content)
    return version


class DocumentChangesArgs(BaseModel):
    path: str = Field(description="The text document, relative to the server root.")
    since_version: str = Field(description="A version a read or edit of this document returned.")


class WaitDocumentChangesArgs(DocumentChangesArgs):
    timeout: float = Field(30.0, gt=0, le=300, description="Seconds to wait for someone else's change.")


class DocumentChanges(BaseModel):
    path: str
    since_version: str
    version: str = Field(description="The version now: pass it as since_version next time.")
    changed: bool = Field(description="Whether someone other than you changed the document since.")
    diff: str | None = Field(None, description="The change as a compact unified diff (your own edits since "
                             "are in it too).")
    characters_added: int = 0
    characters_removed: int = 0
    authors: list[str] = Field(description="Who else changed it (people by name; agents as 'name (agent)').")
    timed_out: bool | None = Field(None, description="wait_for_document_changes: true when nobody else changed it.")


async def _changes(ctx: ToolContext, path: str, since: str, tool: str, wait: float | None) -> DocumentChanges:
    ref = await resolve(ctx, path)
    require_text(ref, tool)
    doc = await open_live(ctx, ref)
    log = document_log(ctx, ref, doc)
    if log is None:  # open_live opened the room; only a room closed in between gets here
        raise ToolError(f"The room of {ref.path!r} closed just now, and with it what changed since {since!r}. "
                        "Read the document again.")
    seq, old = log.at(since, ref.path)
    own = agent_origin(ctx)
    timed_out = None
    if wait is not None:
        timed_out = not await log.wait_for_others(seq, own, wait)
        doc = await open_live(ctx, ref)
    others = [c for c in log.after(seq) if c.origin != own]
    new = str(text_of(doc))
    added, removed = change_summary(old, new) if others else (0, 0)
    return DocumentChanges(
        path=ref.path, since_version=since, version=issue_version(ctx, ref, doc, new), changed=bool(others),
        diff=compact_diff(old, new, MAX_DIFF_CHARS) if others else None, characters_added=added, characters_removed=removed,
        authors=sorted({c.who for c in others}),
        timed_out=timed_out,
    )


@tool(permission="read", title="What others changed in a document")
async def get_document_changes(ctx: ToolContext, args: DocumentChangesArgs) -> DocumentChanges:
    """What others (people, other agents) changed in a text document since since_version, as a compact diff
    with who changed it. Nothing is reported when only you changed it."""
    return await _changes(ctx, args.path, args.since_version, "get_document_changes", None)


@tool(permission="read", title="Wait for others' changes to a document")
async def wait_for_document_changes(ctx: ToolContext, args: WaitDocumentChangesArgs) -> DocumentChanges:
    """Wait until someone else changes the text document after since_version (your own edits do not count),
    then return what changed as get_document_changes does; timed_out=true if nobody did within timeout."""
    return await _changes(ctx, args.path, args.since_version, "wait_for_document_changes", args.timeout)
