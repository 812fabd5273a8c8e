"""Per-server adapters: each workload step mapped to that server's tool names and arguments.

collab-mcp names cells by id; the peers by position. The workload hands every adapter a
:class:`Cell` with both, and each adapter uses what its server understands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class ToolFailed(Exception):
    """A tool answered with an error result."""


@dataclass
class Cell:
    index: int
    cell_id: str | None = None


def result_text(result: Any) -> str:
    """Everything a tool answered (text blocks and structured content), for content checks."""
    parts = [getattr(block, "text", "") or "" for block in result.content or []]
    if result.structured_content is not None:
        parts.append(json.dumps(result.structured_content))
    return "\n".join(parts)


async def call(session: Any, tool: str, arguments: dict[str, Any]) -> Any:
    result = await session.call_tool(tool, arguments)
    if result.is_error:
        raise ToolFailed(f"{tool}: {result_text(result)[:500]}")
    return result


class Adapter:
    """How one server does each step. Methods return the tool result."""

    name: str

    async def prepare(self, session: Any, path: str, kernel: bool) -> None:
        """Whatever the server needs before editing ``path`` (and running code if ``kernel``)."""

    async def read(self, session: Any, path: str, cells: int) -> Any:
        raise NotImplementedError

    async def insert(self, session: Any, path: str, source: str) -> str | None:
        """Append a code cell; return its id when the server tells it."""
        raise NotImplementedError

    async def update(self, session: Any, path: str, cell: Cell, source: str) -> Any:
        raise NotImplementedError

    async def delete(self, session: Any, path: str, cell: Cell) -> Any:
        raise NotImplementedError

    async def execute(self, session: Any, path: str, cell: Cell) -> Any:
        raise NotImplementedError


class CollabMCP(Adapter):
    name = "collab-mcp"

    async def prepare(self, session: Any, path: str, kernel: bool) -> None:
        await call(session, "create_notebook_session", {"path": path, "start_kernel": kernel})

    # Cells per get_notebook call (compare.py sets it: the whole notebook in one call unless --read-page).
    page = 100

    async def read(self, session: Any, path: str, cells: int) -> Any:
        start, texts = 0, []
        while start is not None:
            result = await call(session, "get_notebook", {"path": path, "start": start, "limit": min(cells, self.page)})
            texts.append(result.content[0].text)
            start = result.structured_content["next_start"]
        result.content[0].text = "\n".join(texts)  # so the content check sees every page
        return result

    async def insert(self, session: Any, path: str, source: str) -> str | None:
        # No index: appending is the default, and a collab-mcp@DIR row from before the argument was
        # renamed (position -> index) refuses the new name.
        result = await call(session, "insert_notebook_cell", {"path": path, "content": source})
        return result.structured_content["cell_id"]

    async def update(self, session: Any, path: str, cell: Cell, source: str) -> Any:
        return await call(session, "update_notebook_cell", {"path": path, "cell_id": cell.cell_id, "content": source})

    async def delete(self, session: Any, path: str, cell: Cell) -> Any:
        return await call(session, "delete_notebook_cell", {"path": path, "cell_id": cell.cell_id})

    async def execute(self, session: Any, path: str, cell: Cell) -> Any:
        return await call(session, "execute_notebook_cell", {"path": path, "cell_id": cell.cell_id, "timeout": 30})


class JupyterMCPServer(Adapter):
    """datalayer jupyter-mcp-server: a "current notebook" chosen with use_notebook, cells by index."""

    name = "jupyter-mcp-server"

    async def prepare(self, session: Any, path: str, kernel: bool) -> None:
        args = {"notebook_name": path, "notebook_path": path, "mode": "connect"}
        if kernel:
            args["kernel_id"] = "NEW"
        await call(session, "use_notebook", args)

    async def read(self, session: Any, path: str, cells: int) -> Any:
        return await call(session, "read_notebook", {
            "notebook_name": path, "response_format": "detailed", "start_index": 0, "limit": cells,
        })

    async def insert(self, session: Any, path: str, source: str) -> str | None:
        await call(session, "insert_cell", {
            "cell_index": -1, "cell_type": "code", "cell_source": source, "notebook_name": path,
        })
        return None

    async def update(self, session: Any, path: str, cell: Cell, source: str) -> Any:
        return await call(session, "overwrite_cell_source", {
            "cell_index": cell.index, "cell_source": source, "notebook_name": path,
        })

    async def delete(self, session: Any, path: str, cell: Cell) -> Any:
        return await call(session, "delete_cell", {
            "cell_indices": [cell.index], "include_source": False, "notebook_name": path,
        })

    async def execute(self, session: Any, path: str, cell: Cell) -> Any:
        return await call(session, "execute_cell", {"cell_index": cell.index, "timeout": 30, "stream": False})


class JupyterMCPLive(Adapter):
    """jupyter-mcp-live: tools reached through fastmcp Code Mode's ``execute`` (a Python snippet)."""

    name = "jupyter-mcp-live"

    async def _tool(self, session: Any, tool: str, arguments: dict[str, Any]) -> Any:
        code = f"return await call_tool({tool!r}, {arguments!r})"
        return await call(session, "execute", {"code": code})

    async def prepare(self, session: Any, path: str, kernel: bool) -> None:
        # Its edit tools need a kernel too (setup_notebook's docstring), so always set up.
        await self._tool(session, "setup_notebook", {"notebook_path": path})

    async def read(self, session: Any, path: str, cells: int) -> Any:
        return await self._tool(session, "view_notebook", {"notebook_path": path})

    async def insert(self, session: Any, path: str, source: str) -> str | None:
        await self._tool(session, "add_code_cell", {"notebook_path": path, "source": source, "execute": False})
        return None

    async def update(self, session: Any, path: str, cell: Cell, source: str) -> Any:
        return await self._tool(session, "edit_code_cell", {
            "notebook_path": path, "position_index": cell.index, "source": source, "execute": False,
        })

    async def delete(self, session: Any, path: str, cell: Cell) -> Any:
        return await self._tool(session, "delete_cell", {"notebook_path": path, "position_index": cell.index})

    async def execute(self, session: Any, path: str, cell: Cell) -> Any:
        return await self._tool(session, "execute_cell", {"notebook_path": path, "position_index": cell.index})


ADAPTERS: dict[str, Adapter] = {a.name: a for a in (CollabMCP(), JupyterMCPServer(), JupyterMCPLive())}
# Remote mode: the same tools, from an MCP server outside Jupyter (servers.REMOTE_ROWS).
ADAPTERS_REMOTE: dict[str, Adapter] = {"collab-mcp-remote": ADAPTERS["collab-mcp"],
                                       "jupyter-mcp-server-standalone": ADAPTERS["jupyter-mcp-server"]}
