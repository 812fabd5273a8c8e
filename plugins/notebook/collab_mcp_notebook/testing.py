"""Helpers for testing notebook tools: notebooks written to a server root, a collaborator's view of cells."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat


def write_notebook(root: Path, path: str, cells: list[dict[str, Any]] | None = None) -> str:
    """Write a notebook file (before any room exists for it) and return its API path."""
    nb = nbformat.v4.new_notebook()
    for cell in cells or []:
        kind = cell.get("cell_type", "code")
        if kind == "code":
            made = nbformat.v4.new_code_cell(cell.get("source", ""))
            made.outputs = [nbformat.from_dict(o) for o in cell.get("outputs", [])]
            made.execution_count = cell.get("execution_count")
        elif kind == "markdown":
            made = nbformat.v4.new_markdown_cell(cell.get("source", ""))
        else:
            made = nbformat.v4.new_raw_cell(cell.get("source", ""))
        nb.cells.append(made)
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nbformat.writes(nb))
    return path


def cells_of(collaborator: Any) -> list[dict[str, Any]]:
    """The collaborator's view of the cells, as plain data."""
    return [c.to_py() for c in collaborator.notebook.ycells]


def sources(collaborator: Any) -> list[str]:
    return [str(c["source"]) for c in collaborator.notebook.ycells]


def disk_cells(root: Path, path: str) -> list[dict[str, Any]]:
    return json.loads((root / path).read_text())["cells"]
