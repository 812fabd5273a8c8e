"""Saving open text documents when the server stops.

A room saves its document a moment after the last change (``document_save_delay``)
and cancels that pending save when it is stopped, so an edit made just before the
server stops never reaches the disk; on the next start the room reloads the file
and the edit is gone (it survives only in history). When the server stops, the
pack writes every open text room's document through the room's own file loader
(the same call the room's save makes; it refuses to overwrite out-of-band
changes, and the write itself is shielded from cancellation).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

TEXT_ROOM_PREFIX = "text:file:"
SAVE_TIMEOUT = 5.0


async def save_open_text_rooms(host: Any) -> None:
    ext = host.backend.settings.get("jupyter_server_ydoc")
    if ext is None:
        return
    rooms = [r for rid, r in list(ext.ywebsocket_server.rooms.items()) if rid.startswith(TEXT_ROOM_PREFIX)]
    if not rooms:
        return
    try:
        await asyncio.wait_for(asyncio.gather(*(_save(room) for room in rooms), return_exceptions=True), SAVE_TIMEOUT)
    except TimeoutError:
        log.warning("some text documents could not be saved within %ss while the server stopped", SAVE_TIMEOUT)


async def _save(room: Any) -> None:
    loader = getattr(room, "_file", None)  # jupyter-server-ydoc's FileLoader of the room
    document = getattr(room, "_document", None)
    if loader is None or document is None or not room.ready:
        return
    try:
        await loader.maybe_save_content(
            {"format": room.file_format, "type": room.file_type, "content": await document.aget()}
        )
    except Exception:
        log.warning("could not save %s while the server stopped", getattr(loader, "path", room), exc_info=True)
