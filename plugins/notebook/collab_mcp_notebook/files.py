"""Files under the server root as the ContentsManager lists them, and the ``list_files`` tool.

Hidden files (names starting with a dot, which include the collaboration
store and checkpoints) are never listed, and the walk never descends into
folders of generated files (``SKIP_FOLDERS``). Listing opens no room.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import NotFound, ToolContext, ToolError, tool

from .outputs import optional

SKIP_FOLDERS = {".ipynb_checkpoints", "__pycache__", "node_modules"}
MAX_DEPTH = 20


async def walk(ctx: ToolContext, folder: str, depth: int | None = None) -> list[dict[str, Any]] | None:
    """Contents models (without content) of the files and folders under ``folder``, ``depth`` levels deep
    (None: all), sorted by path; None if ``folder`` is not a folder."""
    contents = ctx.backend.contents
    if folder and not await contents.dir_exists(folder):
        return None
    found: list[dict[str, Any]] = []
    pending = [(folder, 1)]
    while pending:
        current, level = pending.pop()
        for item in await contents.list_folder(current):
            name = item["name"]
            if name.startswith("."):  # hidden files, the collaboration store and checkpoints among them
                continue
            found.append(item)
            if item["type"] == "directory" and name not in SKIP_FOLDERS and (depth is None or level < depth):
                pending.append((item["path"], level + 1))
    return sorted(found, key=lambda m: m["path"])


def check_pattern(pattern: str) -> str:
    """A glob relative to the listed folder, or a ToolError when it tries to reach outside it."""
    parts = pattern.replace("\\", "/").split("/")
    if pattern.startswith(("/", "\\")) or (len(pattern) > 1 and pattern[1] == ":") or ".." in parts:
        raise ToolError(
            f"pattern {pattern!r} tries to leave the folder being listed; give a glob relative to it, "
            "like '*.csv' or 'data/*.parquet'."
        )
    return pattern


class ListFilesArgs(BaseModel):
    path: str = Field("", description="Folder to list, relative to the server root; '' is the root.")
    pattern: str | None = Field(None, description="Glob on paths relative to the folder, e.g. '*.csv'.")
    depth: int = Field(1, ge=1, le=MAX_DEPTH, description="Levels to descend: 1 lists the folder itself.")
    start: int = Field(0, ge=0, description="Skip this many entries (for paging).")
    limit: int = Field(200, ge=1, le=1000, description="Return at most this many.")


class FileEntry(BaseModel):
    path: str
    type: str = Field(description="directory, notebook or file.")
    size: int | None = optional("Bytes, for files.")
    last_modified: str | None = None


class FileList(BaseModel):
    folder: str
    files: list[FileEntry]
    total: int
    next_start: int | None = Field(None, description="Pass as start to get the next page; null when done.")


@tool(permission="read", title="List files")
async def list_files(ctx: ToolContext, args: ListFilesArgs) -> FileList:
    """Files and folders under a folder (paged; hidden files never listed), optionally filtered by a glob."""
    folder = ctx.path
    pattern = check_pattern(args.pattern) if args.pattern else None
    found = await walk(ctx, folder, args.depth)
    if found is None:
        raise NotFound(f"No folder at {args.path!r}. Give a folder relative to the server root ('' is the root).")
    prefix = f"{folder}/" if folder else ""
    if pattern is not None:
        found = [m for m in found if fnmatch.fnmatch(m["path"].removeprefix(prefix), pattern)]
    page = found[args.start : args.start + args.limit]
    end = args.start + len(page)
    return FileList(
        folder=folder,
        files=[
            FileEntry(
                path=m["path"], type=m["type"], size=m.get("size") if m["type"] != "directory" else None,
                last_modified=str(m.get("last_modified") or "") or None,
            )
            for m in page
        ],
        total=len(found),
        next_start=end if end < len(found) else None,
    )
