"""An example third-party pack, as you would write your own, using only ``collab_mcp_core``'s public API.

- ``word_count`` reads a text file as it is live (unsaved edits included);
- ``tag_cells`` tags notebook cells through the live notebook handle: people in
  JupyterLab see the tags appear; it emits a ``cells_tagged`` event;
- ``last_tagged`` says what this caller tagged last, as the pack's event
  listener recorded it;
- ``authorize`` keeps ``secret/`` private and the locked folder
  (``c.HelloPack.locked_folder``) read-only, saying why.

Install it (``pip install -e examples/hello_pack``) and it is found through its
``collab_mcp.packs`` entry point; ``collab-mcp packs`` lists it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field
from traitlets import Unicode
from traitlets.config import Configurable

from collab_mcp_core import (
    TEXT_FILE,
    Deny,
    Event,
    HostServices,
    Identity,
    ToolContext,
    ToolError,
    Verdict,
    caller_key,
    hookimpl,
    tool,
)

PACK = "hello"


class HelloPack(Configurable):
    """The pack's settings: ``c.HelloPack.tag = "checked"``."""

    tag = Unicode("reviewed", help="The tag tag_cells adds when the call names none.").tag(config=True)
    locked_folder = Unicode("locked/", help="Notebooks under this folder are read-only for every tool.").tag(
        config=True
    )


class CellsTagged(Event):
    """Cells of a notebook were tagged."""

    event_type: ClassVar[str] = "cells_tagged"
    path: str
    tag: str
    cell_ids: list[str]


# -- word_count --------------------------------------------------------------------------------


class WordCountArgs(BaseModel):
    path: str = Field(description="A text file, relative to the server root.")


class WordCount(BaseModel):
    path: str
    words: int
    lines: int


@tool(permission="read", title="Count words")
async def word_count(ctx: ToolContext, args: WordCountArgs) -> WordCount:
    """Count the words and lines of a text file as it is now, including unsaved edits in its room."""
    await ctx.backend.check_file(ctx.path, kind="text file")  # NotFound, saying what exists, if it does not
    if ctx.backend.room_for(ctx.path, TEXT_FILE) is not None:
        text = str(await ctx.open_text())  # the live document: what people see now, saved or not
    else:
        text = await ctx.backend.contents.read_text(ctx.path)  # nobody has it open: no room to open
    return WordCount(path=ctx.path, words=len(text.split()), lines=len(text.splitlines()))


# -- tag_cells ---------------------------------------------------------------------------------


class TagCellsArgs(BaseModel):
    path: str = Field(description="A notebook, relative to the server root.")
    cell_ids: list[str] = Field(description="The cells to tag, by id (at least one).")
    tag: str | None = Field(None, min_length=1, description="The tag (default: the pack's configured tag).")


class Tagged(BaseModel):
    path: str
    tag: str
    cell_ids: list[str]
    version: str = Field(description="The notebook's version after tagging.")


@tool(permission="write", title="Tag cells", destructive=False, idempotent=True)
async def tag_cells(ctx: ToolContext, args: TagCellsArgs) -> Tagged:
    """Add a tag to cells' metadata (JupyterLab shows it in the cell's tags); cells already tagged stay as they are."""
    if not args.cell_ids:
        raise ToolError("cell_ids is empty: name at least one cell to tag (get_notebook lists their ids).")
    tag = args.tag or ctx.config(HelloPack).tag
    notebook = await ctx.open_notebook()
    cells = [notebook.cell(cell_id) for cell_id in args.cell_ids]  # NotFound before any change
    with notebook.transaction():  # one change for people's undo
        for cell in cells:
            tags = list(cell.metadata.get("tags") or [])
            if tag not in tags:
                cell.set_metadata("tags", [*tags, tag])
    await ctx.emit(CellsTagged(path=ctx.path, tag=tag, cell_ids=args.cell_ids))
    return Tagged(path=ctx.path, tag=tag, cell_ids=args.cell_ids, version=notebook.version)


# -- last_tagged -------------------------------------------------------------------------------


class NoArgs(BaseModel):
    pass


class LastTagged(BaseModel):
    path: str | None = Field(description="The notebook this caller tagged last, or null.")
    tag: str | None
    cell_ids: list[str]


@tool(permission="read", title="What I tagged last", path_arg=None)
async def last_tagged(ctx: ToolContext, args: NoArgs) -> LastTagged:
    """What this MCP session tagged last with tag_cells (from the pack's event listener)."""
    last = ctx.state.get("last_tagged") or {}
    return LastTagged(path=last.get("path"), tag=last.get("tag"), cell_ids=last.get("cell_ids", []))


# -- hooks ---------------------------------------------------------------------------------------


@hookimpl
def register_tools(register: Any) -> None:
    register(word_count)
    register(tag_cells)
    register(last_tagged)


@hookimpl
def register_configurables(register: Any) -> None:
    register(HelloPack)


@hookimpl
def register_events(register: Any) -> None:
    register(CellsTagged)


@hookimpl
def on_event(event: Event, host: HostServices) -> None:
    if isinstance(event, CellsTagged) and event.actor:
        state = host.state.of(caller_key(event.session_id, event.actor), PACK)
        state["last_tagged"] = {"path": event.path, "tag": event.tag, "cell_ids": event.cell_ids}


@hookimpl
def authorize(identity: Identity, permission: str, path: str | None, tool: str, host: HostServices) -> Verdict:
    if path is None:
        return None
    if path == "secret" or path.startswith("secret/"):
        return Deny("files under secret/ are private")  # deny wins over every other pack
    locked = host.config(HelloPack).locked_folder
    if permission != "read" and (path + "/").startswith(locked):
        return Deny(f"notebooks under {locked} are read-only")
    return None  # abstain: other packs, then Jupyter's Authorizer, decide
