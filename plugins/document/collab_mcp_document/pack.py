"""The document pack's hook implementations: its tools, events and settings."""

from __future__ import annotations

from typing import Any

from collab_mcp_core import hookimpl

from . import forks, history, listing, resources, sessions, text
from .authors import close_author_log, open_author_log
from .config import DocumentPack
from .events import EVENTS
from .readings import forget_session


@hookimpl
def register_tools(register: Any) -> None:
    register(listing.list_documents, permission="read", title="List documents")
    register(text.get_document, permission="read", title="Read a document")
    register(sessions.create_document_session, permission="write", title="Open or create a document",
             destructive=False, idempotent=True)
    register(text.update_document, permission="write", title="Replace document text", destructive=True)
    register(text.insert_text, permission="write", title="Insert text", destructive=False)
    register(text.delete_text, permission="write", title="Delete text", destructive=True)
    register(history.get_document_history, permission="read", title="Document history")
    register(history.restore_document_version, permission="write", title="Restore a version", destructive=True)
    register(forks.fork_document, permission="write", title="Fork a document", destructive=False)
    register(forks.merge_document_fork, permission="write", title="Merge a fork", destructive=True)
    register(forks.list_document_forks, permission="read", title="List forks")
    register(forks.discard_document_fork, permission="write", title="Discard a fork", destructive=True)


@hookimpl
def register_events(register: Any) -> None:
    for event_class in EVENTS:
        register(event_class)


@hookimpl
def register_configurables(register: Any) -> None:
    register(DocumentPack)


@hookimpl
def register_resources(register: Any) -> None:
    register(resources.DOCUMENT_RESOURCES)


@hookimpl
def host_started(host: Any) -> None:
    # The host has already put the update store under the server's data directory.
    open_author_log(host.backend.update_store_path(), host.backend.serverapp.data_dir)
    resources.start_watching(host)


@hookimpl
def mcp_session_closed(session_id: str, identity: Any, host: Any) -> None:
    forget_session(session_id)


@hookimpl
def host_stopping(host: Any) -> None:
    # The host saves every open room and stops room watchers itself.
    close_author_log()
