"""Opening a document's collaboration room, creating the file first when asked."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import NotFound, ToolContext, ToolError, tool

from .changes import issue_version
from .documents import check_file_type, classify, content_of, open_live, room_id, type_from_name
from .readings import remember


# -- create_document_session ------------------------------------------------------------------


class CreateSessionArgs(BaseModel):
    path: str = Field(description="Document path.")
    file_type: str | None = Field(
        None, description="notebook, markdown, code or text (default: from the name)."
    )
    create: bool = Field(False, description="Create the file, empty, if missing.")


class DocumentSession(BaseModel):
    path: str
    file_type: str
    room_id: str
    created: bool = Field(description="True if the file was created by this call.")
    total_length: int
    version: str
    collaborators: list[dict[str, Any]]


@tool(permission="write", title="Open or create a document", destructive=False, idempotent=True)
async def create_document_session(ctx: ToolContext, args: CreateSessionArgs) -> DocumentSession:
    """Open (or find) a document's collaboration room; create=true first creates a missing file empty (never overwrites)."""
    check_file_type(args.file_type)
    api_path = ctx.path
    created = False
    if not api_path:
        raise ToolError("The root folder is not a document; give a file path.")
    if not await _exists(ctx, api_path):
        if not args.create:
            raise NotFound(f"No file at {args.path!r}. Pass create=true to create it.")
        created = await _create_file(ctx, api_path, args.file_type)
    ref = await classify(ctx, api_path, args.file_type, args.path)
    doc = await open_live(ctx, ref)
    content = content_of(doc, ref)
    if not ref.is_notebook:
        remember(ctx, ref, None, content)
    rid = room_id(ctx, ref)
    return DocumentSession(
        path=ref.path, file_type=ref.file_type, room_id=rid, created=created, total_length=len(content),
        version=issue_version(ctx, ref, doc, content), collaborators=ctx.backend.collaborators(ctx.backend.find_room(rid)),
    )


async def _exists(ctx: ToolContext, api_path: str) -> bool:
    return await ctx.backend.contents.file_exists(api_path)


async def _create_file(ctx: ToolContext, api_path: str, file_type: str | None) -> bool:
    """Create a new, empty file (the backend never overwrites one)."""
    is_notebook = (file_type or type_from_name(api_path)) == "notebook"
    if is_notebook and not api_path.endswith(".ipynb"):
        raise ToolError(f"A notebook's name must end in .ipynb, not {api_path!r}.")
    if file_type and file_type != "notebook" and api_path.endswith(".ipynb"):
        raise ToolError(f"{api_path!r} ends in .ipynb, so it is a notebook, not a {file_type} file.")
    await ctx.backend.create_file(api_path)
    return True
