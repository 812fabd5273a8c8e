"""The awareness pack's settings (``c.AwarenessPack.<name>`` in Jupyter's config)."""

from __future__ import annotations

from traitlets import Bool
from traitlets.config import Configurable


class AwarenessPack(Configurable):
    """Settings of the awareness pack."""

    follow_edits = Bool(
        True,
        help="Move an agent's cursor to the end of a notebook cell it just inserted or changed with another "
        "pack's tool, when the agent has joined that notebook's session, so people see where it works.",
    ).tag(config=True)
