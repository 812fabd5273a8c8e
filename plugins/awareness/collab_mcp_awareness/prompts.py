"""Prompts that put the awareness tools to work: catch up on a document before editing it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from collab_mcp_core import ToolContext


class DocumentArgs(BaseModel):
    path: str = Field(description="Document path (an open document).")


async def catch_up(ctx: ToolContext, args: DocumentArgs) -> str:
    """Catch up on a document before working in it: who is in it, where they are, what they did lately."""
    return (
        f"Before working on {args.path}, catch up on it: who is in it (get_online_users with "
        f"path={args.path}), where their cursors are (get_user_cursors) and what happened lately "
        "(get_user_activity). Summarise who works where in a few lines, then say which cells or lines you will "
        "touch, so you do not edit what someone else is editing."
    )


PROMPTS = (catch_up,)
