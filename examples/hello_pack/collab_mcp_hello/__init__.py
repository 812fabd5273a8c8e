"""An example third-party pack, as you would write your own.

It adds one tool, ``word_count``, and one authorization rule: nobody may use
any tool on a path under ``secret/``. Install it (``pip install -e
examples/hello_pack``) and it is found through its ``collab_mcp.packs`` entry
point; ``collab-mcp packs`` lists it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import Deny, NotFound, ToolContext, Verdict, hookimpl, tool
from collab_mcp_core.backend import TEXT_FILE


class WordCountArgs(BaseModel):
    path: str = Field(description="A text file, relative to the server root.")


class WordCount(BaseModel):
    path: str
    words: int
    lines: int


@tool(permission="read", title="Count words")
async def word_count(ctx: ToolContext, args: WordCountArgs) -> WordCount:
    """Count the words and lines of a text file as it is now, including unsaved edits in its room."""
    path = await ctx.backend.require_file(args.path, kind="text file")
    room = ctx.backend.room_for(path, TEXT_FILE)
    if room is not None:
        text = str((await ctx.backend.open_document(path, TEXT_FILE)).source)
    else:
        model = await ctx.backend.contents_manager.get(path, content=True, type="file", format="text")
        text = model["content"]
    if text is None:
        raise NotFound(f"{args.path!r} has no text content.")
    return WordCount(path=path, words=len(text.split()), lines=len(text.splitlines()))


@hookimpl
def register_tools(register: Any) -> None:
    register(word_count)


@hookimpl
def authorize(identity: Any, permission: str, path: str | None, tool: str, host: Any) -> Verdict:
    if path is not None and (path == "secret" or path.startswith("secret/")):
        return Deny("files under secret/ are private")  # deny wins over every other pack
    return None
