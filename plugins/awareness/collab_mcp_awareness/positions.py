"""Line/column (0-based, in characters) <-> character offsets in a text.

Tools speak lines and columns counted in characters (Python code points);
this module is the one place that converts, and says clearly what is valid
when a position does not exist.
"""

from __future__ import annotations

from collab_mcp_core import ToolError


def offset_of(text: str, line: int, column: int, *, where: str = "the text") -> int:
    """The character offset of ``line``/``column`` in ``text``, or a ToolError saying what is valid."""
    lines = text.split("\n")
    if line < 0 or column < 0:
        raise ToolError(f"line and column are 0-based and cannot be negative (got line {line}, column {column}).")
    if line >= len(lines):
        raise ToolError(
            f"Line {line} is out of range: {where} has {len(lines)} line(s), so valid lines are 0 to {len(lines) - 1}."
        )
    if column > len(lines[line]):
        raise ToolError(
            f"Column {column} is out of range on line {line} of {where}: that line has {len(lines[line])} "
            f"character(s), so valid columns are 0 to {len(lines[line])}."
        )
    return sum(len(part) + 1 for part in lines[:line]) + column


def line_column_of(text: str, offset: int) -> tuple[int, int]:
    """The 0-based line and column (in characters) of a character offset (clamped to the text)."""
    offset = max(0, min(offset, len(text)))
    before = text[:offset]
    line = before.count("\n")
    return line, offset - (before.rfind("\n") + 1)
