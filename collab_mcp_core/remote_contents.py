"""Files and folders of a remote Jupyter server, through its contents REST API (``api/contents``).

Reading and listing only, plus creating a file that does not exist yet: a
collaborated file is never written here (edits go through its room).
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote

import httpx2

from .connect import Target
from .errors import NotFound, ToolError
from .local_contents import LocalContents

# Seconds a file seen to exist is taken to still exist: each tool call checks its file first, and over a
# real network each check is a round trip (tens of ms to a hub far away); a run of edits pays one.
EXISTS_FOR = 1.0


class RemoteContents(LocalContents):
    """The :class:`~collab_mcp_core.backend_protocol.Contents` of a remote server (``walk`` is shared)."""

    def __init__(self, target: Target, http: httpx2.AsyncClient) -> None:  # noqa: D107 - no ContentsManager here
        self.target, self.http = target, http
        self._seen_files: dict[str, float] = {}  # api path -> when it was last seen to be a file (monotonic)

    async def _model(self, api_path: str, **query: str) -> dict[str, Any] | None:
        try:
            answer = await self.http.get(self.target.url + "api/contents/" + quote(api_path), params=query)
        except httpx2.HTTPError as err:
            raise ToolError(f"The Jupyter server at {self.target.url} is not reachable ({type(err).__name__}); "
                            "try again once it is back.") from err
        if answer.status_code in (400, 404):
            return None
        if answer.status_code != 200:
            raise ToolError(f"The server could not read {api_path!r} (HTTP {answer.status_code}).")
        return answer.json()

    async def file_exists(self, api_path: str) -> bool:
        if time.monotonic() - self._seen_files.get(api_path, -EXISTS_FOR) < EXISTS_FOR:
            return True
        model = await self._model(api_path, content="0")
        exists = model is not None and model["type"] != "directory"
        if exists:
            self._seen_files[api_path] = time.monotonic()
        else:
            self._seen_files.pop(api_path, None)
        return exists

    async def dir_exists(self, api_path: str) -> bool:
        model = await self._model(api_path, content="0")
        return model is not None and model["type"] == "directory"

    async def list_folder(self, api_path: str) -> list[dict[str, Any]]:
        model = await self._model(api_path, content="1", type="directory")
        if model is None:
            raise NotFound(f"No folder at {api_path!r}.")
        return list(model.get("content") or [])

    async def read_text(self, api_path: str) -> str:
        model = await self._model(api_path, content="1", type="file", format="text")
        if model is None:
            raise NotFound(f"No file at {api_path!r}.")
        return str(model.get("content") or "")

    async def read_head(self, api_path: str, size: int) -> bytes:
        model = await self._model(api_path, content="1", type="file", format="base64")
        if model is None:
            raise NotFound(f"No file at {api_path!r}.")
        return base64.b64decode(model.get("content") or "")[:size]

    async def _create_new(self, api_path: str) -> None:
        # PUT of a model without content makes an empty file; nothing was there, so no room's edits are at stake.
        model = {"type": "notebook"} if api_path.endswith(".ipynb") else {"type": "file", "format": "text"}
        answer = await self.http.put(self.target.url + "api/contents/" + quote(api_path), json=model)
        if answer.status_code not in (200, 201):
            raise ToolError(f"The server could not create {api_path!r} (HTTP {answer.status_code}).")
