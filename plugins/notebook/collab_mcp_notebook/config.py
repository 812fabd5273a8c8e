"""The notebook pack's settings (``c.NotebookPack.*`` in the Jupyter server config)."""

from __future__ import annotations

from traitlets import Bool, Float, Int, Unicode
from traitlets.config import Configurable


class NotebookPack(Configurable):
    """Output budget, execution limits and kernel policy of the notebook tools."""

    max_output_chars = Int(
        4000, help="Characters of cell output returned to the model per call; longer text is cut to head and tail."
    ).tag(config=True)
    max_image_bytes = Int(
        512_000, help="Largest image (decoded bytes) returned as MCP image content; larger ones become a note."
    ).tag(config=True)
    max_images = Int(4, help="Images returned as MCP image content per call.").tag(config=True)
    execution_timeout = Float(30.0, help="Default execution timeout in seconds.").tag(config=True)
    max_execution_timeout = Float(600.0, help="Largest timeout a caller may ask for, in seconds.").tag(config=True)
    auto_restart = Bool(
        False, help="Start a fresh kernel automatically when the notebook's kernel died (otherwise say so)."
    ).tag(config=True)
    kernel_name = Unicode(
        "", help="Kernel spec for notebooks without a kernel; empty means the server's default kernel."
    ).tag(config=True)
    resource_debounce = Float(
        0.5, help="Seconds of quiet before subscribers hear that a notebook resource changed."
    ).tag(config=True)
