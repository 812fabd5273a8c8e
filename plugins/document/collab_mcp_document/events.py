"""The document pack's events: every change, fork, merge and restore, with its author."""

from __future__ import annotations

from typing import ClassVar

from collab_mcp_core import Event


class DocumentChanged(Event):
    """An agent changed a document (or one of its forks) through a document tool."""

    event_type: ClassVar[str] = "document_changed"
    path: str
    fork_id: str | None = None
    operation: str
    characters_added: int
    characters_removed: int
    version: str


class DocumentForked(Event):
    """A fork of a document was created."""

    event_type: ClassVar[str] = "document_forked"
    path: str
    fork_id: str
    title: str = ""
    synchronize: bool = False


class DocumentForkMerged(Event):
    """A fork was merged into its document and closed."""

    event_type: ClassVar[str] = "document_fork_merged"
    path: str
    fork_id: str
    version: str


class DocumentForkDiscarded(Event):
    """A fork was closed without merging."""

    event_type: ClassVar[str] = "document_fork_discarded"
    path: str
    fork_id: str


class DocumentRestored(Event):
    """A past version was applied to a document as a new change."""

    event_type: ClassVar[str] = "document_restored"
    path: str
    version_id: str
    version: str


EVENTS = (DocumentChanged, DocumentForked, DocumentForkMerged, DocumentForkDiscarded, DocumentRestored)
