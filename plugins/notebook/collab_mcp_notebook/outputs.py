"""The output budget: what of a cell's outputs reaches the model.

Outputs stay complete in the shared document; only what a tool returns is
bounded. Long text is cut to head and tail with a note, images become MCP
image content up to a size cap (otherwise a note), HTML is summarised, and
ANSI escapes (tracebacks are full of them) are removed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from pydantic import BaseModel, Field

from .config import NotebookPack

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# A cut keeps this share of its room for the head; the rest is the tail.
HEAD_SHARE = 2 / 3
# Below this many characters per output a cut shows less than its own note: the
# budget then keeps outputs whole in order and omits the rest (see OutputBudget.fit).
MIN_CUT = 120


def optional(description: str | None = None) -> Any:
    """A field that is None by default and left out of results when it is None.

    Cell and output views use it: a 1,000-cell read would otherwise repeat
    thousands of nulls.
    """
    return Field(None, description=description, exclude_if=_is_none)


def _is_none(value: Any) -> bool:
    return value is None


class OutputView(BaseModel):
    """One output as the model sees it (fields without a value are left out)."""

    output_type: str = Field(description="stream, execute_result, display_data or error.")
    name: str | None = optional("stdout or stderr, for streams.")
    text: str | None = optional("The text (plain text, summarised HTML or traceback), maybe cut.")
    mime_types: list[str] | None = optional("Every MIME type the output holds, for rich outputs.")
    ename: str | None = optional("The exception's name, for errors.")
    evalue: str | None = optional("The exception's message, for errors.")
    note: str | None = optional("What was cut, summarised or returned separately.")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def settle_carriage_returns(text: str) -> str:
    """What a terminal shows: a progress bar redrawn with '\\r' keeps only its last state."""
    if "\r" not in text:
        return text
    return "\n".join(
        line.rsplit("\r", 1)[-1] if not line.endswith("\r") else line.rstrip("\r").rsplit("\r", 1)[-1]
        for line in text.replace("\r\n", "\n").split("\n")
    )


def as_text(value: Any) -> str:
    """nbformat multiline strings may be lists of lines."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


def describe(view: OutputView) -> str:
    """What an output is, in a few words: its kind (stream name, error name), MIME types and size."""
    kind = f"{view.output_type} {view.name or view.ename or ''}".strip()
    mimes = f" ({' '.join(view.mime_types)})" if view.mime_types else ""
    return f"{kind}{mimes} of {len(view.text or ''):,} characters"


def cut(text: str, limit: int) -> tuple[str, str | None]:
    """``text`` within ``limit`` characters: head and tail around a note, and the note."""
    if len(text) <= limit:
        return text, None
    limit = max(limit, 0)
    head = int(limit * HEAD_SHARE)
    tail = limit - head
    removed = len(text) - head - tail
    note = f"{removed} of {len(text)} characters cut (page through the whole output with read_cell_output)"
    return text[:head] + f"\n[... {note} ...]\n" + (text[len(text) - tail :] if tail else ""), note


@dataclass
class OutputBudget:
    """What is left to spend on outputs in one tool call."""

    chars: int
    image_bytes: int
    images_left: int
    return_images: bool = True
    images: list[types.ImageContent] = field(default_factory=list)
    omitted: int = 0  # outputs fit() left out
    left_out: list[str] = field(default_factory=list)  # what they were (kind, MIME types, size)
    limit: int = field(init=False)  # the characters the call started with (chars is what is left)

    def __post_init__(self) -> None:
        self.limit = self.chars

    @classmethod
    def from_config(cls, config: NotebookPack, *, return_images: bool = True) -> OutputBudget:
        return cls(config.max_output_chars, config.max_image_bytes, config.max_images, return_images)

    def fit(self, groups: list[list[OutputView]]) -> list[int]:
        """Cut the texts of the views in ``groups`` so together they fit the budget, fairly.

        Short outputs stay whole; the long ones share what is left equally
        (water-filling), each cut to head and tail with a note. When so many
        outputs compete that each share would be under ``MIN_CUT`` characters
        (a long notebook), outputs are kept whole in order until the budget is
        spent and the rest are left out of their lists (counted in ``omitted``).

        Returns how many views each group lost. A view that is cut is replaced
        in its list by a cut copy: the views passed in never change
        (get_notebook's are shared with its memo).
        """
        lengths = sorted(len(v.text or "") for group in groups for v in group)
        if sum(lengths) <= self.chars:
            self.chars -= sum(lengths)
            return [0] * len(groups)
        cap, left, remaining = 0, self.chars, len(lengths)
        for length in lengths:
            share = left // remaining
            if length > share:
                cap = share
                break
            left -= length
            remaining -= 1
        if cap < MIN_CUT:
            return self._keep_in_order(groups)
        for group in groups:
            for k, v in enumerate(group):
                if v.text and len(v.text) > cap:
                    text, note = cut(v.text, cap)
                    group[k] = v.model_copy(update={"text": text, "note": f"{v.note}; {note}" if v.note else note})
        self.chars = 0
        return [0] * len(groups)

    def _keep_in_order(self, groups: list[list[OutputView]]) -> list[int]:
        left, lost = self.chars, []
        for group in groups:
            kept = 0
            for v in group:
                if v.text and len(v.text) > left:
                    left = 0  # later short outputs go too: what is shown is a prefix
                    break
                left -= len(v.text or "")
                kept += 1
            lost.append(len(group) - kept)
            self.left_out.extend(describe(v) for v in group[kept:])
            del group[kept:]
        self.omitted += sum(lost)
        self.chars = 0
        return lost

    def omitted_note(self) -> str | None:
        """What to tell the model about outputs :meth:`fit` left out, if any."""
        if not self.omitted:
            return None
        shown = ", ".join(self.left_out[:5]) + (", ..." if len(self.left_out) > 5 else "")
        return (
            f"{self.omitted} output(s) were left out ({shown}; outputs_omitted counts them per cell, they are a "
            "cell's last outputs): over the budget of "
            f"{self.limit:,} output characters per call. Read fewer cells per call, single cells with "
            "read_notebook_cell, or one output with read_cell_output(path, cell_id, output_index)."
        )

    def view(self, output: dict[str, Any]) -> OutputView:
        """One output, whole: call :meth:`fit` on every view of the call afterwards."""
        kind = output.get("output_type", "unknown")
        if kind == "stream":
            text = settle_carriage_returns(strip_ansi(as_text(output.get("text"))))
            return OutputView(output_type=kind, name=output.get("name"), text=text)
        if kind == "error":
            traceback = strip_ansi("\n".join(as_text(line) for line in output.get("traceback") or []))
            return OutputView(
                output_type=kind,
                ename=output.get("ename"),
                evalue=strip_ansi(str(output.get("evalue", ""))),
                text=traceback or f"{output.get('ename')}: {output.get('evalue')}",
            )
        return self._rich(kind, output.get("data") or {})

    def _rich(self, kind: str, data: dict[str, Any]) -> OutputView:
        notes: list[str] = []
        image_type = next((t for t in IMAGE_TYPES if t in data), None)
        if image_type:
            notes.append(self._image(image_type, as_text(data[image_type])))
        if "text/plain" in data:
            raw = as_text(data["text/plain"])
        elif "text/html" in data:
            raw = html.unescape(TAGS.sub(" ", as_text(data["text/html"])))
            raw = re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n", raw)).strip()
            notes.append("HTML output summarised as its text")
        elif "text/markdown" in data:
            raw = as_text(data["text/markdown"])
        else:
            raw = ""
        return OutputView(
            output_type=kind,
            text=strip_ansi(raw) if raw else None,
            mime_types=sorted(data),
            note="; ".join(notes) or None,
        )

    def _image(self, mime_type: str, b64: str) -> str:
        size = len(b64.strip()) * 3 // 4
        if not self.return_images:
            return f"{mime_type} image of {size} bytes (fetch it with read_cell_output)"
        if size > self.image_bytes:
            return f"{mime_type} image of {size} bytes not returned: larger than the {self.image_bytes}-byte cap"
        if self.images_left <= 0:
            return f"{mime_type} image of {size} bytes not returned: image limit per call reached"
        self.images_left -= 1
        self.images.append(types.ImageContent(data=b64.strip().replace("\n", ""), mime_type=mime_type))
        return f"{mime_type} image of {size} bytes returned as image content #{len(self.images)}"
