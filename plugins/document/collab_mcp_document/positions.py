"""Positions in a text document as the agent read it: range checks (rebasing is :func:`collab_mcp_core.rebase`).

Positions count characters (code points); :mod:`collab_mcp_core.text` converts
them to pycrdt's byte offsets and applies edits.
"""

from __future__ import annotations

from collab_mcp_core import ToolError

def check_range(length: int, position: int, count: int = 0, *, what: str = "position") -> int:
    """Validate a ``position``/``count`` range in a document of ``length`` characters.

    ``position`` -1 means the end of the document. Returns the resolved position.
    """
    if position == -1:
        position = length
    if position < 0 or position > length:
        raise ToolError(
            f"{what} {position} is out of range: the document has {length} characters "
            f"(valid positions are 0..{length}, or -1 for the end). Positions count characters (code points)."
        )
    if count < 0:
        raise ToolError(f"length must be 0 or more, not {count}.")
    if position + count > length:
        raise ToolError(
            f"The range {position}..{position + count} runs past the end of the document "
            f"({length} characters); at most {length - position} characters can be removed at {position}."
        )
    return position
