"""Prompts that put the document tools to work: summarise what changed since a version."""

from __future__ import annotations

from pydantic import BaseModel, Field

from collab_mcp_core import ToolContext


class ChangesArgs(BaseModel):
    path: str = Field(description="Document path.")
    version: str = Field(description="A version_id from get_document_history: the changes after it are summarised.")


async def summarize_changes(ctx: ToolContext, args: ChangesArgs) -> str:
    """Summarise what changed in a document since a version, and who changed it."""
    return (
        f"Summarise what changed in {args.path} since version {args.version}. List its versions with "
        f"get_document_history (raise limit until {args.version} appears) and take the ones after it, with their "
        "authors and change summaries; read the current text with get_document. Answer with a two-line overview, "
        "then the notable changes grouped by author."
    )


PROMPTS = (summarize_changes,)
