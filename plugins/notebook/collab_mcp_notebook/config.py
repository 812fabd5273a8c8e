"""The notebook pack's settings (``c.NotebookPack.*`` in the Jupyter server config)."""

from __future__ import annotations

import logging

from traitlets import Bool, Float, Int, Unicode, observe
from traitlets.config import Configurable

log = logging.getLogger(__name__)


class NotebookPack(Configurable):
    """Output budget, execution limits and kernel policy of the notebook tools."""

    max_output_chars = Int(
        4000, help="Characters of cell output returned to the model per call; longer text is cut to head and tail."
    ).tag(config=True)
    max_image_bytes = Int(
        512_000, help="Largest image (decoded bytes) returned as MCP image content; larger ones become a note."
    ).tag(config=True)
    max_page_chars = Int(20_000, help="Characters read_cell_output returns per page.").tag(config=True)
    max_images = Int(4, help="Images returned as MCP image content per call.").tag(config=True)
    execution_timeout = Float(30.0, help="Default execution timeout in seconds.").tag(config=True)
    execution_wait = Float(
        30.0, help="Seconds a call waits for its run before answering status running (the run goes on)."
    ).tag(config=True)
    max_execution_timeout = Float(600.0, help="Largest timeout a caller may ask for, in seconds.").tag(config=True)
    heal_dead_kernels = Bool(
        True,
        help="Before each execution, replace a dead kernel (process gone, culled, or not answering kernel_info "
        "while idle) with a fresh one for the same notebook, saying so in the result (its variables are gone). "
        "When False such a call is refused with an error that names restart_kernel.",
    ).tag(config=True)
    auto_restart = Bool(
        None, allow_none=True, help="Deprecated: the old name of heal_dead_kernels (setting it sets that)."
    ).tag(config=True)
    kernel_info_timeout = Float(
        10.0, help="Seconds an idle kernel has to answer kernel_info before an execution counts it as dead."
    ).tag(config=True)
    kernel_name = Unicode(
        "", help="Kernel spec for notebooks without a kernel; empty means the server's default kernel."
    ).tag(config=True)
    resource_debounce = Float(
        0.5, help="Seconds of quiet before subscribers hear that a notebook resource changed."
    ).tag(config=True)

    @observe("auto_restart")
    def _auto_restart_is_heal_dead_kernels(self, change: dict) -> None:
        if change["new"] is not None:
            log.warning("c.NotebookPack.auto_restart is deprecated: use c.NotebookPack.heal_dead_kernels")
            self.heal_dead_kernels = change["new"]
