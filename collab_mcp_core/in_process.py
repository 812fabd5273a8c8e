"""Calling tools in-process, for a pack's unit tests: the real host on real pycrdt documents, no server.

    async with in_process(my_pack, files={"a.ipynb": notebook_json}) as app:
        person = app.backend.open_room("a.ipynb", NOTEBOOK).collaborator()
        result = await app.client.call_tool("tag_cells", {"path": "a.ipynb", "cell_ids": ["c1"]})

The host is the one the extension builds (the same registry, argument validation,
authorization hooks, ``call_tool`` wrappers, events and per-session state), on a
:class:`~collab_mcp_core.memory_backend.MemoryBackend`, and ``app.client`` is the
MCP SDK's own client connected to it in memory (``mcp.Client(server)``). No
Jupyter server, no HTTP, no kernels, no update store: test those against a server
with the ``collab_server`` fixture. Only the packs given are loaded (the installed
ones too with ``installed=True``); ``config`` is traitlets config, as in
``jupyter_server_config.py`` (``{"HelloPack": {"tag": "checked"}}``).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .identity import Identity
from .memory_backend import MemoryBackend

TESTER = Identity(username="tester", display_name="Test Agent", provider="in-process")


@dataclass
class InProcess:
    """What :func:`in_process` gives: the host, its backend (files, rooms) and a connected MCP client."""

    host: Any
    backend: MemoryBackend
    client: Any


@contextlib.asynccontextmanager
async def in_process(
    *packs: object, files: dict[str, str] | None = None, config: dict[str, Any] | None = None,
    identity: Identity = TESTER, installed: bool = False,
) -> AsyncIterator[InProcess]:
    """A started host with ``packs`` (modules or objects with hook implementations) on files in memory."""
    from mcp import Client
    from traitlets.config import Config

    from .app import CollabMCP
    from .host import Host
    from .packs import PackManager

    with tempfile.TemporaryDirectory(prefix="collab-mcp-in-process-") as data_dir:
        backend = MemoryBackend(dict(files or {}), data_dir)
        settings = CollabMCP(config=Config(config or {}))
        manager = PackManager(enabled=settings.enabled_packs, disabled=settings.disabled_packs)
        if installed:
            manager.load_entry_points()
        for pack in packs:
            manager.register(pack, name=getattr(pack, "__name__", type(pack).__name__))
        host = Host(app=settings, packs=manager, backend=backend, local_identity=identity)
        await host.packs.notify("host_started", host=host)
        try:
            async with Client(host.server) as client:
                yield InProcess(host, backend, client)
        finally:
            await host.packs.notify("host_stopping", host=host)
            backend.room_events.close_all()
