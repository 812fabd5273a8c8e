"""The last of the extension's stop: end what would keep the process alive once the server stopped.

anyio ends each of its worker threads when the task it was first started from ends. Jupyter
stops its event loop without ending the tasks still pending, and jupyter-server-ydoc leaves
two kinds pending that start worker threads: each room's update store (see
:func:`~collab_mcp_core.update_store.stop_store`) and each collaborator's room websocket (the
request's task lasts as long as the connection). A worker thread left waiting is not a daemon:
after "Deleting all rooms" the interpreter waited for it forever, and SIGTERM or SIGINT never
ended the process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from .update_store import stop_stores

CLOSE_TIMEOUT = 6.0  # seconds; tornado gives a client 5 s to answer a close before dropping it
STORES_TIMEOUT = 10.0  # seconds for the stores to write what is queued and stop


async def release_rooms(rooms: Iterable[Any]) -> None:
    """Close every collaborator's websocket in ``rooms``, then stop their update stores
    (and every batched store still running), once the documents are saved."""
    rooms = list(rooms)
    await close_websockets(rooms)
    await stop_stores((getattr(room, "ystore", None) for room in rooms), STORES_TIMEOUT)


async def close_websockets(rooms: Iterable[Any]) -> None:
    """Close each room client's websocket (1001: going away) and wait until its stream is closed."""
    streams = []
    for room in rooms:
        for client in list(getattr(room, "clients", ())):
            connection = getattr(client, "ws_connection", None)  # a tornado WebSocketHandler's
            if connection is None:
                continue
            client.close(1001, "the server is stopping")
            streams.append(connection.stream)
    # Tornado has no awaitable for a closed connection: look again until all are closed.
    deadline = time.monotonic() + CLOSE_TIMEOUT
    while any(not stream.closed() for stream in streams) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
