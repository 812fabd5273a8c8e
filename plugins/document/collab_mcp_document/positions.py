"""Positions in a text document as the agent read it: range checks and rebasing.

Positions count characters (code points); :mod:`collab_mcp_core.text` converts
them to pycrdt's byte offsets and applies edits.
"""

from __future__ import annotations

from collab_mcp_core import Conflict, ToolError
from collab_mcp_core.text import Splice

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


def rebase(ours: list[Splice], theirs: list[Splice]) -> list[Splice]:
    """Move our splices (against a base text) onto a text others changed with ``theirs`` (same base).

    A splice of theirs wholly before one of ours shifts it; one wholly after leaves it; when both
    insert at one point, ours goes after theirs. Overlapping changes cannot both be kept as meant:
    that is a Conflict, raised before anything changes.
    """
    rebased = []
    for ours_splice in ours:
        start, end = ours_splice.position, ours_splice.position + ours_splice.removed
        shift = 0
        for other in theirs:
            other_end = other.position + other.removed
            if other_end <= start and (other.position < start or other.removed == 0):
                shift += len(other.inserted) - other.removed
            elif other.position >= end and (other.position > start or ours_splice.removed == 0 or other.removed == 0):
                continue
            else:
                raise Conflict(
                    f"Your edit of characters {start}..{end} (as you read the document) overlaps changes "
                    f"someone else made since, at {other.position}..{other_end}. Read the document again "
                    "with get_document and redo your edit."
                )
        rebased.append(Splice(start + shift, ours_splice.removed, ours_splice.inserted))
    return rebased
