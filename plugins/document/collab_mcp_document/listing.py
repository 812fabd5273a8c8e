"""Which documents exist: listing collaborable files without opening their rooms."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, Field, computed_field

from collab_mcp_core import ToolContext, ToolError, tool

from .documents import DocumentRef, check_file_type, room_id, type_from_name

MAX_WALK = 20_000  # files looked at per listing, so a huge tree cannot stall the server


# -- list_documents ---------------------------------------------------------------------------


class ListDocumentsArgs(BaseModel):
    path: str = Field("", description="Folder to list recursively ('': the root).")
    file_type: str | None = Field(None, description="Only this type: notebook, markdown, code or text.")
    start: int = Field(0, ge=0, validation_alias=AliasChoices("start", "offset"), description="First item (paging: pass next_start).")
    limit: int = Field(50, ge=1, le=500, description="Most items to return.")


class DocumentInfo(BaseModel):
    path: str
    file_type: str
    size: int | None = Field(description="Size on disk in bytes (unsaved edits not counted).")
    room_open: bool = Field(description="Whether a collaboration room is open for it right now.")
    room_id: str | None
    collaborators: list[str] = Field(description="Display names of the people and agents in its room.")


class DocumentList(BaseModel):
    documents: list[DocumentInfo]
    total: int
    start: int
    next_start: int | None = Field(description="Pass as start for the next page; null when this was the last.")

    # offset/next_offset were start/next_start before docs/conventions.md: kept for one release.
    @computed_field(description="Old name of start, for one release.")  # type: ignore[prop-decorator]
    @property
    def offset(self) -> int:
        return self.start

    @computed_field(description="Old name of next_start, for one release.")  # type: ignore[prop-decorator]
    @property
    def next_offset(self) -> int | None:
        return self.next_start


async def walk_files(ctx: ToolContext, folder: str) -> list[dict[str, Any]]:
    """Every file model under ``folder`` (depth first, sorted by path), without hidden files."""
    return await ctx.backend.contents.walk(folder, limit=MAX_WALK)


@tool(permission="read", title="List documents")
async def list_documents(ctx: ToolContext, args: ListDocumentsArgs) -> DocumentList:
    """List documents (notebooks, markdown, code, text) under a folder with type, size and who has each open.

    Opens no room. Page with start/next_start.
    """
    check_file_type(args.file_type)
    folder = ctx.path
    if not await is_dir(ctx, folder):
        raise ToolError(f"{args.path!r} is not a folder. Give a folder relative to the server root ('' for the root).")
    matches = []
    for model in await walk_files(ctx, folder):
        file_type = type_from_name(model["path"])
        if file_type is None or (args.file_type and file_type != args.file_type):
            continue
        matches.append((model, file_type))
    page = matches[args.start : args.start + args.limit]
    documents = []
    for model, file_type in page:
        ref = DocumentRef(model["path"], file_type)
        room = ctx.backend.room_for(ref.path, ref.kind)
        documents.append(
            DocumentInfo(
                path=ref.path, file_type=file_type, size=model.get("size"), room_open=room is not None,
                room_id=room_id(ctx, ref, create=False) if room is not None else None,
                collaborators=[_name(p) for p in ctx.backend.collaborators(room)],
            )
        )
    end = args.start + len(page)
    return DocumentList(
        documents=documents, total=len(matches), start=args.start, next_start=end if end < len(matches) else None
    )


async def is_dir(ctx: ToolContext, api_path: str) -> bool:
    return await ctx.backend.contents.dir_exists(api_path)


def _name(person: dict[str, Any]) -> str:
    return str(person.get("display_name") or person.get("name") or person.get("username") or person.get("client_id"))
