"""The document pack's settings (``c.DocumentPack.*``)."""

from __future__ import annotations

from traitlets import Float, Int
from traitlets.config import Configurable


class DocumentPack(Configurable):
    """Settings of the collab-mcp document pack."""

    max_content_chars = Int(
        100_000, help="Most characters get_document returns at once; ask for a range to read more."
    ).tag(config=True)
    history_group_seconds = Float(
        2.0,
        help="Updates by the same people less than this many seconds apart form one history version "
        "(a person typing makes one update per keystroke). Each agent edit is its own version.",
    ).tag(config=True)
    resource_debounce = Float(
        0.5, help="Seconds a document must be quiet before subscribers of document://<path> hear it changed."
    ).tag(config=True)
    max_history_limit = Int(200, help="Most versions get_document_history returns.").tag(config=True)
