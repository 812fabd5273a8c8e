"""Reading and editing text documents through their live shared document.

Positions and lengths count characters (Unicode code points) of the document
as the agent read it; :mod:`.positions` converts them to pycrdt's UTF-8 byte
offsets. Every edit is one transaction on the room's document (or a fork's),
so collaborators see it live and concurrent typing elsewhere survives.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, Field

from collab_mcp_core import Splice, ToolContext, ToolError, apply_splices, apply_to_string, minimal_splices, rebase, text_of, tool

from .authors import agent_transaction
from .changes import issue_version
from .config import DocumentPack
from .documents import check_version, content_of, require_text, resolve, room_id, version_of
from .events import DocumentChanged
from .forks import open_target
from .positions import check_range
from .readings import last_seen, remember

CHARACTERS = "In characters of the text as you last read it; others' edits since are accounted for."


# -- get_document ------------------------------------------------------------------------------


class GetDocumentArgs(BaseModel):
    path: str = Field(description="Document path.")
    include_collaboration_state: bool = Field(True, description="Add the room id and collaborators.")
    start: int | None = Field(None, ge=0, description="First character (default 0).")
    end: int | None = Field(None, ge=0, description="Character after the last one (default: the end).")
    fork_id: str | None = Field(None, description="Read this fork instead.")


class Document(BaseModel):
    path: str
    file_type: str
    content: str = Field(description="The text (for a notebook: its nbformat JSON), or the requested range of it.")
    start: int
    end: int
    total_length: int = Field(description="Length of the whole document in characters.")
    truncated: bool = Field(description="True when content stops before the end you asked for (size cap).")
    version: str = Field(description="Pass as expected_version to edit tools to refuse edits if it changed.")
    fork_id: str | None = None
    room_id: str | None = None
    collaborators: list[dict[str, Any]] | None = None


@tool(permission="read", title="Read a document")
async def get_document(ctx: ToolContext, args: GetDocumentArgs) -> Document:
    """Read a live document (unsaved edits included; a notebook reads as nbformat JSON): content, total_length, version.

    Large documents are capped (truncated=true): page with start/end.
    """
    ref = await resolve(ctx)
    doc = await open_target(ctx, ref, args.fork_id)
    content = content_of(doc, ref)
    if not ref.is_notebook:
        remember(ctx, ref, args.fork_id, content)
    total = len(content)
    start = args.start or 0
    end = total if args.end is None else args.end
    if start > total or end > total or start > end:
        raise ToolError(
            f"Range {start}..{end} is not inside the document, which has {total} characters "
            f"(valid: 0 <= start <= end <= {total})."
        )
    cap = ctx.config(DocumentPack).max_content_chars
    truncated = end - start > cap
    stop = start + cap if truncated else end
    result = Document(
        path=ref.path, file_type=ref.file_type, content=content[start:stop], start=start, end=stop,
        total_length=total, truncated=truncated, fork_id=args.fork_id,
        version=version_of(doc) if args.fork_id else issue_version(ctx, ref, doc, content),
    )
    if args.include_collaboration_state:
        result.room_id = args.fork_id or room_id(ctx, ref)
        room = ctx.backend.find_room(result.room_id)
        result.collaborators = ctx.backend.collaborators(room)
    return result


# -- edits ------------------------------------------------------------------------------------


class EditResult(BaseModel):
    path: str
    fork_id: str | None = None
    length: int = Field(description="The document's new length in characters.")
    version: str = Field(description="The new version (for expected_version of your next edit).")
    characters_added: int
    characters_removed: int


class UpdateDocumentArgs(BaseModel):
    path: str = Field(description="Text document path.")
    content: str = Field(description="The new text: the whole document, or what replaces the range.")
    position: int | None = Field(None, description="Replace `length` characters here (-1 appends). " + CHARACTERS)
    length: int = Field(0, ge=0, description="Characters to replace at position (0 inserts).")
    expected_version: str | None = Field(None, description="Refuse unless the document is at this version.")
    fork_id: str | None = Field(None, description="Edit this fork instead.")


@tool(permission="write", title="Replace document text", destructive=True)
async def update_document(ctx: ToolContext, args: UpdateDocumentArgs) -> EditResult:
    """Replace a document's whole text (as a minimal diff: others' edits elsewhere survive) or, with position, a range.

    Returns the new length and version.
    """
    if args.position is None:
        if args.length:
            raise ToolError("length only applies with position; omit both to replace the whole document.")
        return await _edit(ctx, args.fork_id, args.expected_version, "update_document", "replace",
                           lambda old: minimal_splices(old, args.content))

    def splice(old: str) -> list[Splice]:
        position = check_range(len(old), args.position, args.length)  # type: ignore[arg-type]
        return [Splice(position, args.length, args.content)]

    return await _edit(ctx, args.fork_id, args.expected_version, "update_document", "replace", splice)


class InsertTextArgs(BaseModel):
    path: str = Field(description="Text document path.")
    content: str = Field(validation_alias=AliasChoices("content", "text"), description="The text to insert.")
    position: int = Field(description="Where to insert (-1: the end). " + CHARACTERS)
    expected_version: str | None = Field(None, description="Refuse unless the document is at this version.")
    fork_id: str | None = Field(None, description="Edit this fork instead.")


@tool(permission="write", title="Insert text", destructive=False)
async def insert_text(ctx: ToolContext, args: InsertTextArgs) -> EditResult:
    """Insert text at a character position of a live document; returns the new length and version."""
    if not args.content:
        raise ToolError("content is empty: nothing to insert.")

    def splice(old: str) -> list[Splice]:
        return [Splice(check_range(len(old), args.position), 0, args.content)]

    return await _edit(ctx, args.fork_id, args.expected_version, "insert_text", "insert", splice)


class DeleteTextArgs(BaseModel):
    path: str = Field(description="Text document path.")
    position: int = Field(ge=0, description="First character to delete. " + CHARACTERS)
    length: int = Field(ge=1, description="Characters to delete.")
    expected_version: str | None = Field(None, description="Refuse unless the document is at this version.")
    fork_id: str | None = Field(None, description="Edit this fork instead.")


@tool(permission="write", title="Delete text", destructive=True)
async def delete_text(ctx: ToolContext, args: DeleteTextArgs) -> EditResult:
    """Delete `length` characters at a character position of a live document; returns the new length and version."""

    def splice(old: str) -> list[Splice]:
        return [Splice(check_range(len(old), args.position, args.length), args.length, "")]

    return await _edit(ctx, args.fork_id, args.expected_version, "delete_text", "delete", splice)


async def _edit(ctx: ToolContext, fork_id: str | None, expected: str | None, tool: str,
                operation: str, plan: Any) -> EditResult:
    """Check everything, then apply the planned splices in one agent transaction.

    The plan is made against the text as this agent last saw it, then moved over the
    changes others made since (see :mod:`.readings`); with expected_version it is made
    against the live text, which must be at that version.
    """
    ref = await resolve(ctx)
    require_text(ref, tool)
    doc = await open_target(ctx, ref, fork_id)
    ytext = text_of(doc)
    live = str(ytext)
    check_version(expected, doc, ref)
    seen = last_seen(ctx, ref, fork_id)
    base = live if expected is not None or seen is None else seen
    ours = plan(base)  # validates positions against the text the agent saw: raises before any change
    splices = ours if base == live else rebase(ours, minimal_splices(base, live))
    if splices:
        with agent_transaction(doc.ydoc, ctx):
            apply_splices(ytext, live, splices)
    remember(ctx, ref, fork_id, apply_to_string(base, ours))
    new = str(ytext)
    added = sum(len(s.inserted) for s in ours)
    removed = sum(s.removed for s in ours)
    version = version_of(doc) if fork_id else issue_version(ctx, ref, doc, new)
    if splices:
        await ctx.emit(
            DocumentChanged(path=ref.path, fork_id=fork_id, operation=operation, characters_added=added,
                            characters_removed=removed, version=version)
        )
    return EditResult(path=ref.path, fork_id=fork_id, length=len(new), version=version,
                      characters_added=added, characters_removed=removed)
