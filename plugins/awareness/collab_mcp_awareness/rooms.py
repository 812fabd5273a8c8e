"""Which collaboration rooms are open, which document each holds, and who is in them.

A collaboration session is an open jupyter-server-ydoc room; its id
(``json:notebook:<file id>``, ``text:file:<file id>``) is the session id the
tools speak. Nothing here opens a room.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import AliasChoices, BaseModel, computed_field

from collab_mcp_core import NOTEBOOK, TEXT_FILE, Backend, NotFound, ToolError

GLOBAL_AWARENESS = "JupyterLab:globalAwareness"

# The document argument was document_path until docs/conventions.md made it path: the old
# name is accepted for one release, not advertised.
OLD_PATH = AliasChoices("path", "document_path")


class NamesPath(BaseModel):
    """A result naming its document ``path``, and for one release ``document_path`` too (its old name)."""

    @computed_field(description="Old name of path, for one release.")  # type: ignore[prop-decorator]
    @property
    def document_path(self) -> str | None:
        return getattr(self, "path", None)


@dataclass(frozen=True)
class OpenRoom:
    """An open document room."""

    room_id: str
    path: str
    kind: str  # "notebook" or "file"
    room: Any

    @property
    def is_notebook(self) -> bool:
        return self.kind == "notebook"


def kind_of(api_path: str) -> tuple[str, str]:
    return NOTEBOOK if api_path.endswith(".ipynb") else TEXT_FILE


def all_rooms(backend: Backend) -> dict[str, Any]:
    """Every open room by id (documents, forks, global awareness)."""
    return backend.rooms()


def open_rooms(backend: Backend) -> list[OpenRoom]:
    """The open rooms that hold a document with a known path."""
    found = []
    for room_id, room in backend.rooms().items():
        path = backend.path_of_room(room_id)
        if path:
            found.append(OpenRoom(room_id, path, room_id.split(":", 2)[1], room))
    return sorted(found, key=lambda r: r.path)


def room_at(backend: Any, api_path: str) -> OpenRoom | None:
    """The open room of a document (a normalized path), or None; opens nothing."""
    kind = kind_of(api_path)
    try:
        room_id = backend.room_id(api_path, kind, create=False)
        room = backend.find_room(room_id)
    except ToolError:  # no collaboration extension: no rooms
        return None
    return OpenRoom(room_id, api_path, kind[1], room) if room is not None else None


async def readable_rooms(ctx: Any, tool: str) -> list[OpenRoom]:
    """The open rooms whose document the caller may read (others are not even named)."""
    found = []
    for room in open_rooms(ctx.backend):
        try:
            await ctx.host.check_permission(ctx.identity, "read", room.path, tool, ctx.handler)
        except ToolError:
            continue
        found.append(room)
    return found


async def room_by_id(ctx: Any, room_id: str) -> OpenRoom:
    """The open room with this session id, or NotFound listing the open ones the caller may read.

    A room the caller may not read is not found either: its id says nothing of its path.
    """
    readable = await readable_rooms(ctx, ctx.tool)
    for room in readable:
        if room.room_id == room_id:
            return room
    raise NotFound(f"No open collaboration session {room_id!r}. {describe(readable)}")


async def room_for_path(ctx: Any) -> OpenRoom:
    """The open room of a document, or a clear error.

    The host has checked the caller may read it: tools name it as their path argument.
    """
    backend = ctx.backend
    api_path = await backend.check_file(ctx.path or "", kind="document")  # the path argument, normalized by the host
    for room in open_rooms(backend):
        if room.path == api_path:
            return room
    readable = await readable_rooms(ctx, ctx.tool)
    raise NotFound(f"{api_path!r} is not open in any collaboration session (nobody has it open). {describe(readable)}")


def describe(rooms: list[OpenRoom]) -> str:
    """Name the open documents of ``rooms`` (those the caller may read: see readable_rooms)."""
    if not rooms:
        return "No document you may read is open right now."
    listed = ", ".join(f"{r.path} (session_id {r.room_id})" for r in rooms[:20])
    return f"Open documents: {listed}."
