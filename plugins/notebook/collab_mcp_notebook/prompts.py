"""Prompts that put the notebook tools to work: review a notebook, fix a failing cell."""

from __future__ import annotations

from pydantic import BaseModel, Field

from collab_mcp_core import ToolContext


class NotebookArgs(BaseModel):
    path: str = Field(description="Notebook path.")


async def review_notebook(ctx: ToolContext, args: NotebookArgs) -> str:
    """Review a notebook for bugs, hidden state and unclear code, with a concrete fix for each finding."""
    return (
        f"Review the notebook {args.path} as a careful colleague. Read it with get_notebook (page with "
        "start/next_start when it is long). Point out bugs, cells that depend on hidden state or on being run "
        "out of order, unclear code and missing explanations; for each finding give the cell_id and a concrete "
        "fix. Do not edit the notebook unless asked: people may have it open and see every change."
    )


class FailingCellArgs(BaseModel):
    path: str = Field(description="Notebook path.")
    cell_id: str | None = Field(None, description="The failing cell (default: the first one whose outputs hold an error).")


async def fix_failing_cell(ctx: ToolContext, args: FailingCellArgs) -> str:
    """Find why a notebook cell fails, fix it in place and run it again."""
    which = f"cell {args.cell_id}" if args.cell_id else "the first code cell whose outputs hold an error"
    return (
        f"In the notebook {args.path}, {which} fails. Read it (read_notebook_cell, or get_notebook to find it) and "
        "explain the error in a sentence or two. Fix the cause with the smallest change (edit_notebook_cell), run "
        "the cell again with execute_notebook_cell and check its new outputs. If the cause is in an earlier cell, "
        "say so before changing that cell."
    )


PROMPTS = (review_notebook, fix_failing_cell)
