"""A pack the host's tests load with ``--CollabMCP.extra_packs=sample_pack``.

It exercises host mechanisms no shipped pack needs on its own: a write tool
(for "invalid arguments change nothing"), progress notifications, a
``call_tool`` wrapper, and adding a tool at run time (tools/list_changed).
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import ToolError, hookimpl, tool


class AppendArgs(BaseModel):
    path: str = Field(description="A text file.")
    text: str = Field(min_length=1, description="Text to append.")
    times: int = Field(1, ge=1, le=10, description="How many times (1-10).")


class Appended(BaseModel):
    length: int


@tool(permission="write", destructive=False)
async def append_text(ctx: Any, args: AppendArgs) -> Appended:
    """Append text to a text file through its live room."""
    path = await ctx.backend.require_file(args.path, kind="text file")
    doc = await ctx.backend.open_document(path, ("text", "file"))
    source = doc._ysource  # noqa: SLF001 - the pycrdt Text of a YUnicode
    with doc.ydoc.transaction(origin="sample"):
        source += args.text * args.times
    return Appended(length=len(str(source)))


class StepsArgs(BaseModel):
    steps: int = Field(3, ge=1, le=20)
    delay: float = Field(0.01, ge=0, le=1, description="Seconds between steps.")


class Done(BaseModel):
    steps: int


@tool(permission="read")
async def slow_progress(ctx: Any, args: StepsArgs) -> Done:
    """Report progress once per step."""
    for step in range(1, args.steps + 1):
        await ctx.progress(step, args.steps, f"step {step}")
        await asyncio.sleep(args.delay)
    return Done(steps=args.steps)


class NoArgs(BaseModel):
    pass


class Bonus:
    """A pack registered at run time."""

    @hookimpl
    def register_tools(self, register: Any) -> None:
        register(bonus_tool)


@tool(permission="read")
async def bonus_tool(ctx: Any, args: NoArgs) -> Done:
    """A tool that appears at run time."""
    return Done(steps=0)


class Changed(BaseModel):
    changed: bool


@tool(permission="admin")
async def enable_bonus_tool(ctx: Any, args: NoArgs) -> Changed:
    """Register the bonus pack and refresh the tool list."""
    if ctx.host.packs.pm.get_plugin("bonus") is None:
        ctx.host.packs.register(Bonus(), name="bonus")
    return Changed(changed=await ctx.host.refresh_tools())


@hookimpl
def register_tools(register: Any) -> None:
    register(append_text)
    register(slow_progress)
    register(enable_bonus_tool)


@hookimpl(wrapper=True)
def call_tool(call: Any) -> Any:
    if getattr(call.args, "text", None) == "forbidden":
        raise ToolError("The sample wrapper refuses the text 'forbidden'.")
    inner = yield

    async def tagged() -> Any:
        result = await inner
        if isinstance(result, Appended):
            result.length = result.length  # the wrapper sees the real result
        return result

    return tagged()
