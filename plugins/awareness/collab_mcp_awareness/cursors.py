"""Cursor tools: everyone's cursors as line/column, and the agent's own cursor published to JupyterLab."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text
from pydantic import AliasChoices, BaseModel, Field

from collab_mcp_core import NotFound, ToolError, tool

from .hub import Cursor, hub_for
from .positions import line_column_of, offset_of
from .relative_positions import PositionError, TextIds, deleted_offset, scratch_copy, text_ids
from .rooms import OLD_PATH, NamesPath, OpenRoom, room_for_path
from .sessions import join_seat


class DocumentTexts:
    """The texts of one document (a text file's source, or each notebook cell's source), in a scratch copy."""

    def __init__(self, room: OpenRoom) -> None:
        self.room = room
        self._doc = room.room.ydoc
        self._sources = _sources(room, scratch_copy(self._doc))
        self._contents = {cell_id: str(text) for cell_id, text in self._sources.items()}  # before any separator
        self._tables: dict[str | None, TextIds] = {}  # full tables, by cell id
        self._touched: set[str | None] = set()  # texts that already hold separators

    @property
    def cell_ids(self) -> list[str]:
        return [c for c in self._sources if c is not None]

    def content(self, cell_id: str | None) -> str:
        """The text of a cell (or of the text file, cell_id None), or a clear error."""
        self._source(cell_id)
        return self._contents[cell_id]

    def ids(self, cell_id: str | None, offsets: list[int] | None = None) -> TextIds:
        """The character ids of a cell (or the text file): all of them, or those for ``offsets``."""
        source = self._source(cell_id)
        if offsets is None and cell_id in self._tables:
            return self._tables[cell_id]
        if cell_id in self._touched:  # separators are in this copy already: work on a fresh one
            source = _sources(self.room, scratch_copy(self._doc))[cell_id]
        self._touched.add(cell_id)
        found = text_ids(source, offsets)
        if offsets is None:
            self._tables[cell_id] = found
        return found

    def _source(self, cell_id: str | None) -> Text:
        if self.room.is_notebook and cell_id is None:
            listed = ", ".join(self.cell_ids[:20]) or "none (the notebook is empty)"
            raise ToolError(f"{self.room.path!r} is a notebook: give the cell_id of the cell. Cell ids: {listed}.")
        if not self.room.is_notebook and cell_id is not None:
            raise ToolError(f"{self.room.path!r} is a text file, which has no cells: leave cell_id out.")
        if cell_id not in self._sources:
            listed = ", ".join(self.cell_ids[:20])
            raise NotFound(f"No cell {cell_id!r} in {self.room.path!r}. Cell ids: {listed}.")
        return self._sources[cell_id]

    def resolve(self, position: Any) -> tuple[str | None, int, str] | None:
        """The (cell id, character offset, text) a JSON relative position points to, or None."""
        for cell_id in self._sources:
            ids = self.ids(cell_id)
            offset = ids.offset(position)
            if offset is not None:
                return cell_id, offset, ids.text
        if not self.room.is_notebook and isinstance(position, dict) and position.get("item") is not None:
            # On a deleted character: where it was (a text file has one text, so no doubt which).
            fresh = scratch_copy(self._doc)
            content = self.content(None)
            offset = deleted_offset(fresh.get("source", type=Text), content, position)
            if offset is not None:
                return None, offset, content
        return None


def _sources(room: OpenRoom, doc: Doc) -> dict[str | None, Text]:
    """The texts of a document copy: by cell id for a notebook, under None for a text file."""
    if not room.is_notebook:
        return {None: doc.get("source", type=Text)}
    return {
        str(cell.get("id")): cell.get("source")
        for cell in doc.get("cells", type=Array)
        if isinstance(cell, Map) and isinstance(cell.get("source"), Text)
    }


class LineColumn(BaseModel):
    line: int = Field(ge=0, description="0-based line.")
    column: int = Field(ge=0, description="0-based column, in characters.")


class CursorEnd(LineColumn):
    cell_id: str | None = Field(None, description="The notebook cell, for notebooks.")


class UserCursor(BaseModel):
    """One cursor (and its selection) of one collaborator."""

    user_id: str
    display_name: str
    is_agent: bool
    client_id: int
    cell_id: str | None = Field(None, description="The notebook cell the cursor is in (notebooks only).")
    line: int | None = Field(None, description="0-based line of the cursor (the selection's head).")
    column: int | None = Field(None, description="0-based column, in characters.")
    selection: dict[str, CursorEnd] | None = Field(
        None, description="{anchor, head} when text is selected (anchor is where the selection started)."
    )
    primary: bool = True
    resolved: bool = Field(description="False when the position could not be placed (see note).")
    note: str | None = None


class CursorsArgs(BaseModel):
    path: str = Field(validation_alias=OLD_PATH, description="An open document.")


class DocumentCursors(NamesPath):
    path: str
    session_id: str
    cursors: list[UserCursor]


@tool(permission="read", title="Collaborators' cursors")
async def get_user_cursors(ctx: Any, args: CursorsArgs) -> DocumentCursors:
    """Get every collaborator's cursor and selection in an open document: line and column, and cell_id in notebooks."""
    room = await room_for_path(ctx)
    hub = hub_for(ctx.host)
    hub.touch(ctx)
    hub.flush(room.room_id)  # agents' cursors that follow their edits, not yet published
    texts = DocumentTexts(room)
    found = []
    for client_id, state in list(room.room.awareness.states.items()):
        user = (state or {}).get("user")
        cursors = (state or {}).get("cursors")
        if not isinstance(user, dict) or not isinstance(cursors, list):
            continue
        agent = hub.agent_of_client(room.room_id, client_id)
        user_id = str(user.get("username") or user.get("name") or "unknown")
        for cursor in cursors:
            entry = UserCursor(
                user_id=user_id, display_name=str(user.get("display_name") or user.get("name") or user_id),
                is_agent=agent is not None or isinstance(state.get("agent"), dict), client_id=client_id,
                primary=bool(cursor.get("primary", True)) if isinstance(cursor, dict) else True, resolved=False,
            )
            found.append(_place(entry, cursor, texts))
    return DocumentCursors(path=room.path, session_id=room.room_id, cursors=found)


def _place(entry: UserCursor, cursor: Any, texts: DocumentTexts) -> UserCursor:
    if not isinstance(cursor, dict) or "head" not in cursor:
        entry.note = "malformed cursor (no head)"
        return entry
    try:
        head = texts.resolve(cursor["head"])
        anchor = texts.resolve(cursor.get("anchor")) if cursor.get("anchor") is not None else head
    except PositionError as err:
        entry.note = f"unreadable relative position: {err}"
        return entry
    if head is None:
        entry.note = "the position is on text that no longer exists in this document"
        return entry
    entry.cell_id = head[0]
    entry.line, entry.column = line_column_of(head[2], head[1])
    entry.resolved = True
    if anchor is not None and anchor[:2] != head[:2]:
        a_line, a_column = line_column_of(anchor[2], anchor[1])
        entry.selection = {
            "anchor": CursorEnd(line=a_line, column=a_column, cell_id=anchor[0]),
            "head": CursorEnd(line=entry.line, column=entry.column, cell_id=head[0]),
        }
    return entry


class UpdateCursorArgs(BaseModel):
    path: str = Field(validation_alias=OLD_PATH, description="An open document.")
    cursor: LineColumn = Field(validation_alias=AliasChoices("cursor", "position"), description="Where your cursor is.")
    selection: LineColumn | None = Field(None, description="The selection's other end (its anchor).")
    cell_id: str | None = Field(None, description="The cell (notebooks only).")


class PublishedCursor(NamesPath):
    path: str
    session_id: str
    cell_id: str | None
    line: int
    column: int
    selection: dict[str, CursorEnd] | None
    client_id: int = Field(description="Your awareness client id in this session.")


@tool(permission="read", read_only=False, idempotent=True, title="Move my cursor")
async def update_cursor_position(ctx: Any, args: UpdateCursorArgs) -> PublishedCursor:
    """Show your cursor (and a selection) in an open document; JupyterLab draws it with your name, and it follows edits.

    Joins the document's session if needed.
    """
    room = await room_for_path(ctx)
    texts = DocumentTexts(room)
    content = texts.content(args.cell_id)
    where = f"cell {args.cell_id!r}" if args.cell_id else repr(room.path)
    head = offset_of(content, args.cursor.line, args.cursor.column, where=where)
    anchor = offset_of(content, args.selection.line, args.selection.column, where=where) if args.selection else head
    try:
        ids = texts.ids(args.cell_id, offsets=[anchor, head])
    except PositionError as err:
        raise ToolError(f"Could not compute positions in {room.path!r}: {err}") from None
    relative = [{
        "anchor": ids.relative_position(anchor),
        "head": ids.relative_position(head),
        "primary": True,
        "empty": anchor == head,
    }]
    # Everything is valid: now publish (joining the session if needed).
    hub = hub_for(ctx.host)
    agent = hub.agent(ctx)
    seat = agent.seats.get(room.room_id)
    cursor = Cursor(
        line=args.cursor.line, column=args.cursor.column, cell_id=args.cell_id,
        anchor=(args.selection.line, args.selection.column) if args.selection else None, relative=relative,
    )
    if seat is None:  # a cursor in a document makes the agent a participant
        seat = await join_seat(ctx, hub, agent, room)
    agent.current = room.path
    hub.publish_cursor(agent, seat, cursor)
    selection = None
    if args.selection and anchor != head:
        selection = {
            "anchor": CursorEnd(line=args.selection.line, column=args.selection.column, cell_id=args.cell_id),
            "head": CursorEnd(line=args.cursor.line, column=args.cursor.column, cell_id=args.cell_id),
        }
    return PublishedCursor(
        path=room.path, session_id=room.room_id, cell_id=args.cell_id, line=args.cursor.line,
        column=args.cursor.column, selection=selection, client_id=seat.client_id,
    )

