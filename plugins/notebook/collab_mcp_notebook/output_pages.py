"""``read_cell_output``: one output of a cell, whole, a page at a time (what the output budget left out).

The live cell keeps every output whole; reads and runs return them within the
output budget. This tool pages through the text of one output (stream text,
a traceback, or one MIME representation of a rich output) and returns an
image as MCP image content when it is within the image cap.
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
from pycrdt import Map
from pydantic import BaseModel, Field
from pydantic_core import from_json

from collab_mcp_core import ToolContext, ToolError, ToolOutput, tool

from .config import NotebookPack
from .current_notebook import PATH
from .live import find_cell, notebook_path, open_notebook
from .outputs import IMAGE_TYPES, as_text, optional, strip_ansi

TEXT_TYPES = ("text/plain", "text/markdown", "text/html", "application/json")


class ReadOutputArgs(BaseModel):
    path: str | None = PATH
    cell_id: str = Field(description="The code cell.")
    output_index: int = Field(description="Which output of the cell, 0-based; negative counts from the end.")
    start: int = Field(0, ge=0, description="First character (paging: pass next_start).")
    limit: int | None = Field(None, ge=1, description="Most characters (default and most: the page size).")
    mime_type: str | None = Field(None, description="Which representation of a rich output (default: its text, "
                                  "or its image when it has no text).")


class OutputPage(BaseModel):
    path: str
    cell_id: str
    output_index: int
    output_count: int
    output_type: str
    mime_type: str | None = optional("The representation returned (rich outputs).")
    mime_types: list[str] | None = optional("Every representation the output holds (rich outputs).")
    text: str | None = optional("This page of the text.")
    start: int
    end: int
    total_chars: int = Field(description="Length of the whole text (0 for an image).")
    next_start: int | None = optional("Pass as start to read the next page; absent at the end.")
    note: str | None = optional("What was returned separately (an image), or why not.")


def _output(nb: Any, cell_id: str, output_index: int) -> tuple[dict[str, Any], int]:
    """The nbformat output and how many outputs the cell has, or a ToolError naming what is valid."""
    _index, ycell = find_cell(nb, cell_id)
    if ycell.get("cell_type") != "code":
        raise ToolError(f"Cell {cell_id!r} is a {ycell.get('cell_type')} cell; only code cells have outputs.")
    youtputs = ycell.get("outputs")
    n = len(youtputs) if youtputs is not None else 0
    if not -n <= output_index < n:
        valid = f"0..{n - 1} (or -{n}..-1 from the end)" if n else "none: the cell has no outputs"
        raise ToolError(f"output_index {output_index} is out of range for cell {cell_id!r}: valid {valid}.")
    youtput = youtputs[output_index % n]
    output = from_json(str(youtput)) if isinstance(youtput, Map) else dict(youtput)
    return output, n


def _representation(output: dict[str, Any], mime_type: str | None) -> tuple[str | None, str]:
    """(MIME type or None, the text to page) of an output; for images the text is their base64."""
    kind = output.get("output_type")
    if kind == "stream":
        if mime_type is not None:
            raise ToolError(f"A stream output has no MIME types; leave mime_type out (got {mime_type!r}).")
        return None, as_text(output.get("text"))
    if kind == "error":
        if mime_type is not None:
            raise ToolError(f"An error output has no MIME types; leave mime_type out (got {mime_type!r}).")
        return None, strip_ansi("\n".join(as_text(line) for line in output.get("traceback") or []))
    data = output.get("data") or {}
    if mime_type is None:  # its text if it has one, else its image, else whatever it holds
        preferred = [t for t in (*TEXT_TYPES, *IMAGE_TYPES) if t in data] or sorted(data)
        mime_type = preferred[0] if preferred else None
    if mime_type not in data:
        raise ToolError(f"This output has no {mime_type!r}; it holds {', '.join(sorted(data)) or 'nothing'}.")
    value = data[mime_type]
    return mime_type, as_text(value) if isinstance(value, str | list) else json.dumps(value, ensure_ascii=False)


@tool(permission="read", title="Read one cell output")
async def read_cell_output(ctx: ToolContext, args: ReadOutputArgs) -> ToolOutput:
    """Page through one output of a cell, whole (what reads and runs cut or left out), or fetch its image."""
    api_path = await notebook_path(ctx)
    config = ctx.config(NotebookPack)
    page = config.max_page_chars
    if args.limit is not None and args.limit > page:
        raise ToolError(f"limit must be at most {page:,} characters (the page size); read more pages instead.")
    nb = await open_notebook(ctx, api_path)
    output, count = _output(nb, args.cell_id, args.output_index)
    mime_type, text = _representation(output, args.mime_type)
    index = args.output_index % count
    base = {
        "path": api_path, "cell_id": args.cell_id, "output_index": index, "output_count": count,
        "output_type": str(output.get("output_type")), "mime_type": mime_type,
        "mime_types": sorted(output.get("data") or {}) or None,
    }
    if mime_type in IMAGE_TYPES:
        b64 = text.strip().replace("\n", "")
        size = len(b64) * 3 // 4
        if size > config.max_image_bytes:
            raise ToolError(
                f"The {mime_type} image is {size:,} bytes, over the {config.max_image_bytes:,}-byte cap "
                "(c.NotebookPack.max_image_bytes); it cannot be returned. Its text representation, if any, "
                "reads with mime_type='text/plain'."
            )
        result = OutputPage(**base, start=0, end=0, total_chars=0, note=f"{mime_type} image of {size:,} bytes "
                            "returned as image content")
        return ToolOutput(structured=result, extra=[types.ImageContent(data=b64, mime_type=mime_type)])
    total = len(text)
    if args.start > total:
        raise ToolError(f"start {args.start} is past the end: the output has {total:,} characters.")
    end = min(total, args.start + (args.limit or page))
    result = OutputPage(
        **base, text=text[args.start:end], start=args.start, end=end, total_chars=total,
        next_start=end if end < total else None,
    )
    more = f"; next_start={result.next_start}" if result.next_start is not None else "; the end"
    head = f"output {index} of cell {args.cell_id} ({base['output_type']}{' ' + mime_type if mime_type else ''}): "
    return ToolOutput(structured=result, text=f"{head}characters {args.start}..{end} of {total:,}{more}\n{result.text}")
