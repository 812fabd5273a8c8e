"""A pack with a tool declared without a permission: the server must refuse to start."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from collab_mcp_core import ToolContext, hookimpl, tool


class NoArgs(BaseModel):
    pass


class Done(BaseModel):
    done: bool


@tool(title="Wipe everything")
async def wipe_everything(ctx: ToolContext, args: NoArgs) -> Done:
    """A write tool whose author forgot the permission."""
    return Done(done=True)


@hookimpl
def register_tools(register: Any) -> None:
    register(wipe_everything)
