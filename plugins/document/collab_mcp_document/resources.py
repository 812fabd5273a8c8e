"""Each text document as an MCP resource (``document://{path}``), and change notifications.

The host's :class:`~collab_mcp_core.watch.RoomWatcher` observes each open text
room's ``Text`` and tells subscribed clients, once changes have been quiet for
``resource_debounce`` seconds, that the document changed, whoever changed it.
It also hands every document room that opens, notebooks included, to the
author log, so people's edits get authors even in rooms no agent opened.
Notebooks are resources of the notebook pack (``notebook://``); here they can
be read but are not listed.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from pycrdt import Text

from collab_mcp_core import ResourceTemplate, RoomEvent, RoomWatcher, ToolContext, ToolError

from .authors import author_log
from .config import DocumentPack
from .documents import content_of, open_live, resolve, type_from_name
from .listing import walk_files

SCHEME = "document"
TEXT_ROOM_PREFIX = "text:file:"
MAX_LISTED = 1000


def uri_of(api_path: str) -> str:
    return f"{SCHEME}://{api_path}"


async def list_document_resources(ctx: ToolContext) -> list[types.Resource]:
    """Every text document under the root (at most MAX_LISTED), as a resource. Opens no room."""
    resources = []
    for model in await walk_files(ctx, ""):
        file_type = type_from_name(model["path"])
        if file_type is None or file_type == "notebook":
            continue
        resources.append(types.Resource(uri=uri_of(model["path"]), name=model["path"], mime_type="text/plain",
                                        title=model["name"]))
        if len(resources) >= MAX_LISTED:
            break
    return resources


async def read_document_resource(ctx: ToolContext, uri: str) -> str:
    """The live text of the document (unsaved edits included)."""
    path = uri.partition("://")[2]
    if not path:
        raise ToolError(f"{uri!r} names no document; use document://<path relative to the server root>.")
    ref = await resolve(ctx, path)
    return content_of(await open_live(ctx, ref), ref)


DOCUMENT_RESOURCES = ResourceTemplate(
    scheme=SCHEME,
    name="document",
    description="A text document of the server (text, markdown or code file) as it is live in its collaboration "
    "room, unsaved edits included. Subscribe to hear when anyone changes it.",
    mime_type="text/plain",
    list=list_document_resources,
    read=read_document_resource,
)


def _text_of(room: Any) -> Any:
    # The room's shared document (a remote room has no jupyter_ydoc document): the same
    # "source" root jupyter_ydoc's text documents keep their text in.
    return room.ydoc.get("source", type=Text)


def _give_rooms_to_the_author_log(event: RoomEvent) -> None:
    authors = author_log()
    if authors is None or event.room_id.count(":") < 2:
        return  # document rooms only, not fork or awareness rooms
    if event.change == "opened":
        authors.watch(event.room_id, event.room)
    elif event.change == "closed":
        authors.forget(event.room_id, event.room)


def start_watching(host: Any) -> None:
    RoomWatcher(
        host,
        prefix=TEXT_ROOM_PREFIX,
        scheme=SCHEME,
        target=_text_of,
        debounce=host.config(DocumentPack).resource_debounce,
        on_room=_give_rooms_to_the_author_log,
    ).start()  # the host stops it when the server stops
