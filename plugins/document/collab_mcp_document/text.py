"""Reading and editing text documents through their live shared document.

Positions and lengths count characters (Unicode code points) of the document
as the agent read it; :mod:`.positions` converts them to pycrdt's UTF-8 byte
offsets. Every edit is one transaction on the room's document (or a fork's),
so collaborators see it live and concurrent typing elsewhere survives.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import ToolContext, ToolError, tool
from collab_mcp_core.text import Splice, apply_splices, apply_to_string, minimal_splices

from .authors import agent_transaction
from .changes import issue_version
from .config import DocumentPack
from .documents import check_version, content_of, require_text, resolve, room_id, text_of, version_of
from .events import DocumentChanged
from .forks import open_target
from .positions import check_range, rebase
from .readings import key_of, last_seen, remember

CHARACTERS = (
    "Positions and lengths count characters (Unicode code points) of the text as you last read it with "
    "get_document (or left it with your last edit); what others typed since is taken into account."
)


# -- get_document ------------------------------------------------------------------------------


class GetDocumentArgs(BaseModel):
    path: str = Field(description="The document, relative to the server root.")
    include_collaboration_state: bool = Field(True, description="Also return the room id and who is in the room.")
    start: int | None = Field(None, ge=0, description="First character to return (default 0). " + CHARACTERS)
    end: int | None = Field(None, ge=0, description="Character after the last one to return (default: the end).")
    fork_id: str | None = Field(None, description="Read this fork of the document instead of the document.")


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
    """Read a document (text file or notebook) as it is live in its collaboration room, unsaved edits included.

    Returns the content (optionally a character range of it; a notebook reads as nbformat JSON),
    the total length, a version to pass back as expected_version, and the room id and
    collaborators. Large documents are capped: use start/end to read further.
    """
    ref = await resolve(ctx, args.path)
    doc = await open_target(ctx, ref, args.fork_id)
    content = content_of(doc, ref)
    if not ref.is_notebook:
        remember(key_of(ctx, ref, args.fork_id), content)
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
        version=version_of(content) if args.fork_id else issue_version(ctx, ref, doc, content),
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
    path: str = Field(description="A text document (text, markdown or code file).")
    content: str = Field(description="The new text: the whole document, or what replaces the range.")
    position: int | None = Field(
        None,
        description="Without it, content replaces the whole document (applied as a minimal diff, so others' "
        "edits elsewhere survive). With it, content replaces `length` characters at this position; -1 "
        "appends. " + CHARACTERS,
    )
    length: int = Field(0, ge=0, description="How many characters to replace at position (0 inserts).")
    expected_version: str | None = Field(None, description="Refuse the edit unless the document is at this version.")
    fork_id: str | None = Field(None, description="Edit this fork of the document instead of the document.")


@tool(permission="write", title="Replace document text", destructive=True)
async def update_document(ctx: ToolContext, args: UpdateDocumentArgs) -> EditResult:
    """Replace the whole text of a document, or a range of it, in its live shared document.

    Without position the new content replaces everything as a minimal diff (only the changed
    characters change, so collaborators' concurrent edits elsewhere survive). With position,
    `length` characters at `position` are replaced (-1 appends). Positions count characters
    (Unicode code points). Returns the new length and version.
    """
    if args.position is None:
        if args.length:
            raise ToolError("length only applies with position; omit both to replace the whole document.")
        return await _edit(ctx, args.path, args.fork_id, args.expected_version, "update_document", "replace",
                           lambda old: minimal_splices(old, args.content))

    def splice(old: str) -> list[Splice]:
        position = check_range(len(old), args.position, args.length)  # type: ignore[arg-type]
        return [Splice(position, args.length, args.content)]

    return await _edit(ctx, args.path, args.fork_id, args.expected_version, "update_document", "replace", splice)


class InsertTextArgs(BaseModel):
    path: str = Field(description="A text document (text, markdown or code file).")
    text: str = Field(description="The text to insert.")
    position: int = Field(description="Where to insert; 0 is the start, -1 the end. " + CHARACTERS)
    expected_version: str | None = Field(None, description="Refuse the edit unless the document is at this version.")
    fork_id: str | None = Field(None, description="Edit this fork of the document instead of the document.")


@tool(permission="write", title="Insert text", destructive=False)
async def insert_text(ctx: ToolContext, args: InsertTextArgs) -> EditResult:
    """Insert text at a character position of a document, live for everyone in its room.

    Positions count characters (Unicode code points) of the text as get_document returned it;
    -1 appends. Returns the new length and version.
    """
    if not args.text:
        raise ToolError("text is empty: nothing to insert.")

    def splice(old: str) -> list[Splice]:
        return [Splice(check_range(len(old), args.position), 0, args.text)]

    return await _edit(ctx, args.path, args.fork_id, args.expected_version, "insert_text", "insert", splice)


class DeleteTextArgs(BaseModel):
    path: str = Field(description="A text document (text, markdown or code file).")
    position: int = Field(ge=0, description="First character to delete. " + CHARACTERS)
    length: int = Field(ge=1, description="How many characters to delete.")
    expected_version: str | None = Field(None, description="Refuse the edit unless the document is at this version.")
    fork_id: str | None = Field(None, description="Edit this fork of the document instead of the document.")


@tool(permission="write", title="Delete text", destructive=True)
async def delete_text(ctx: ToolContext, args: DeleteTextArgs) -> EditResult:
    """Delete `length` characters at a character position of a document, live for everyone in its room.

    Positions count characters (Unicode code points) of the text as get_document returned it.
    Returns the new length and version.
    """

    def splice(old: str) -> list[Splice]:
        return [Splice(check_range(len(old), args.position, args.length), args.length, "")]

    return await _edit(ctx, args.path, args.fork_id, args.expected_version, "delete_text", "delete", splice)


async def _edit(ctx: ToolContext, path: str, fork_id: str | None, expected: str | None, tool: str,
                operation: str, plan: Any) -> EditResult:
    """Check everything, then apply the planned splices in one agent transaction.

    The plan is made against the text as this agent last saw it, then moved over the
    changes others made since (see :mod:`.readings`); with expected_version it is made
    against the live text, which must be at that version.
    """
    ref = await resolve(ctx, path)
    require_text(ref, tool)
    doc = await open_target(ctx, ref, fork_id)
    ytext = text_of(doc)
    live = str(ytext)
    check_version(expected, live, ref)
    key = key_of(ctx, ref, fork_id)
    seen = last_seen(key)
    base = live if expected is not None or seen is None else seen
    ours = plan(base)  # validates positions against the text the agent saw: raises before any change
    splices = ours if base == live else rebase(ours, minimal_splices(base, live))
    if splices:
        with agent_transaction(doc.ydoc, ctx):
            apply_splices(ytext, live, splices)
    remember(key, apply_to_string(base, ours))
    new = str(ytext)
    added = sum(len(s.inserted) for s in ours)
    removed = sum(s.removed for s in ours)
    version = version_of(new) if fork_id else issue_version(ctx, ref, doc, new)
    if splices:
        await ctx.emit(
            DocumentChanged(path=ref.path, fork_id=fork_id, operation=operation, characters_added=added,
                            characters_removed=removed, version=version)
        )
    return EditResult(path=ref.path, fork_id=fork_id, length=len(new), version=version,
                      characters_added=added, characters_removed=removed)
