"""Each notebook as an MCP resource (``notebook://{path}``), and change notifications.

The host's :class:`~collab_mcp_core.watch.RoomWatcher` observes the cells of
every open notebook room (``observe_deep`` on the cells array: ``YNotebook.observe``
would replace the room's own observer and stop autosave). When anyone changes a notebook, a person in JupyterLab or
an agent, subscribed clients hear ``notifications/resources/updated`` once the
changes have been quiet for ``resource_debounce`` seconds.
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
from pycrdt import Array

from collab_mcp_core import ResourceTemplate, RoomWatcher, ToolContext, ToolError

from .config import NotebookPack
from .notebooks import GetNotebookArgs, get_notebook, walk_notebooks

SCHEME = "notebook"
NOTEBOOK_ROOM_PREFIX = "json:notebook:"


def uri_of(api_path: str) -> str:
    return f"{SCHEME}://{api_path}"


async def list_notebook_resources(ctx: ToolContext) -> list[types.Resource]:
    """Every notebook under the root, as a resource. Opens no room."""
    return [
        types.Resource(uri=uri_of(m["path"]), name=m["path"], mime_type="application/json", title=m["name"])
        for m in await walk_notebooks(ctx, "") or []
    ]


async def read_notebook_resource(ctx: ToolContext, uri: str) -> str:
    """The live notebook as get_notebook returns it (all cells, outputs within the budget), as JSON."""
    path = uri.partition("://")[2]
    if not path:
        raise ToolError(f"{uri!r} names no notebook; use notebook://<path relative to the server root>.")
    output = await get_notebook(ctx, GetNotebookArgs(path=path, limit=5000))
    return json.dumps(output.structured.model_dump(mode="json"), ensure_ascii=False)


NOTEBOOK_RESOURCES = ResourceTemplate(
    scheme=SCHEME,
    name="notebook",
    description="A notebook of the server as it is live in its collaboration room (cells with ids, sources, "
    "outputs within the output budget). Subscribe to hear when anyone changes it.",
    mime_type="application/json",
    list=list_notebook_resources,
    read=read_notebook_resource,
)


def start_watching(host: Any) -> None:
    RoomWatcher(
        host,
        prefix=NOTEBOOK_ROOM_PREFIX,
        scheme=SCHEME,
        target=lambda room: room.ydoc.get("cells", type=Array),
        debounce=host.config(NotebookPack).resource_debounce,
    ).start()  # the host stops it when the server stops
