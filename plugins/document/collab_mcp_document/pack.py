"""The document pack's hook implementations: its tools, events and settings."""

from __future__ import annotations

from typing import Any

from collab_mcp_core import hookimpl

from . import changes, forks, history, listing, prompts, resources, sessions, text
from .authors import close_author_log, open_author_log
from .config import DocumentPack
from .events import EVENTS


TOOLS = (
    listing.list_documents,
    text.get_document,
    changes.get_document_changes,
    changes.wait_for_document_changes,
    sessions.create_document_session,
    text.update_document,
    text.insert_text,
    text.delete_text,
    history.get_document_history,
    history.restore_document_version,
    forks.fork_document,
    forks.merge_document_fork,
    forks.list_document_forks,
    forks.discard_document_fork,
)


@hookimpl
def register_tools(register: Any) -> None:
    for tool in TOOLS:
        register(tool)


@hookimpl
def register_prompts(register: Any) -> None:
    for prompt in prompts.PROMPTS:
        register(prompt)


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
    open_author_log(host.backend.update_store_path(), host.backend.data_dir)
    resources.start_watching(host)


@hookimpl
def host_stopping(host: Any) -> None:
    # The host saves every open room and stops room watchers itself.
    close_author_log()
