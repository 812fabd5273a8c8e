"""Files and folders of the Jupyter server, through its ContentsManager (the backend's contents)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from .awaiting import await_maybe
from .errors import NotFound, ToolError


class LocalContents:
    """The :class:`~collab_mcp_core.backend_protocol.Contents` of the server this extension runs in."""

    def __init__(self, contents_manager: Any, os_path: Callable[[str], str]) -> None:
        self.manager = contents_manager
        self._os_path = os_path

    async def file_exists(self, api_path: str) -> bool:
        return bool(await await_maybe(self.manager.file_exists(api_path)))

    async def dir_exists(self, api_path: str) -> bool:
        return bool(await await_maybe(self.manager.dir_exists(api_path)))

    async def list_folder(self, api_path: str) -> list[dict[str, Any]]:
        model = await await_maybe(self.manager.get(api_path, content=True, type="directory"))
        return list(model.get("content") or [])

    async def walk(
        self, folder: str, *, skip: Callable[[dict[str, Any]], bool] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = []
        pending = [folder]
        while pending and (limit is None or len(files) < limit):
            for entry in await self.list_folder(pending.pop()):
                if entry["name"].startswith(".") or (skip is not None and skip(entry)):
                    continue
                if entry["type"] == "directory":
                    pending.append(entry["path"])
                else:
                    files.append(entry)
        return sorted(files, key=lambda m: m["path"])

    async def read_text(self, api_path: str) -> str:
        model = await await_maybe(self.manager.get(api_path, content=True, type="file", format="text"))
        return str(model.get("content") or "")

    async def read_head(self, api_path: str, size: int) -> bytes:
        with open(self._os_path(api_path), "rb") as f:
            return f.read(size)

    async def create(self, api_path: str) -> None:
        # A file that does not exist has no room yet, so nobody's edits can be lost by writing it.
        if await self.file_exists(api_path) or await self.dir_exists(api_path):
            raise ToolError(f"{api_path!r} already exists, and existing files are never overwritten.")
        folder = posixpath.dirname(api_path)
        if folder and not await self.dir_exists(folder):
            raise NotFound(f"Folder {folder!r} does not exist; create {api_path!r} in an existing folder.")
        await self._create_new(api_path)

    async def _create_new(self, api_path: str) -> None:
        """Create the file, once :meth:`create` checked it does not exist and its folder does."""
        await await_maybe(self.manager.new(path=api_path))
