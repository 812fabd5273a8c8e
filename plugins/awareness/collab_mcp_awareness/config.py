"""The awareness pack's settings (``c.AwarenessPack.<name>`` in Jupyter's config)."""

from __future__ import annotations

from traitlets import Bool, Float
from traitlets.config import Configurable


class AwarenessPack(Configurable):
    """Settings of the awareness pack."""

    auto_presence = Bool(
        True,
        help="Make an agent present in every document it reads, edits or runs with another pack's tools, "
        "from its first such call, with no extra call (JupyterLab shows it as a collaborator). False: agents "
        "appear only after join_session or update_cursor_position.",
    ).tag(config=True)
    presence_idle_timeout = Float(
        300.0,
        help="Seconds without a call after which an agent leaves the documents it is present in (it comes back "
        "with its next call). 0 keeps it until its MCP session ends.",
    ).tag(config=True)
    follow_edits = Bool(
        True,
        help="Move an agent's cursor to the notebook cell it inserts, changes or runs with another pack's tool, "
        "when it is present in that notebook, so people see where it works.",
    ).tag(config=True)
