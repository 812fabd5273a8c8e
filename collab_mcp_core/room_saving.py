"""Saving local rooms' documents: one now, on request, or every changed one as the server stops or a room goes.

Both use the room's own file loader (jupyter-server-ydoc's), which refuses to
overwrite a file changed on disk: nothing here writes a collaborated file itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from tornado import web

from .errors import ToolError

SAVE_TIMEOUT = 10.0  # seconds save_room() keeps trying while newer changes cancel the room's saves
SAVE_ON_STOP_TIMEOUT = 5.0


async def save_room(room: Any, api_path: str) -> None:
    """Save the room's document to disk now, and wait until it is written.

    jupyter-server-ydoc cancels a save in progress when the document changes
    again (its autosave debounce), and its save task then ends quietly: a
    save counts only once the file loader recorded a new write, and is tried
    again until then.
    """
    loader = room._file  # noqa: SLF001 - the room's FileLoader
    deadline = time.monotonic() + SAVE_TIMEOUT
    while time.monotonic() < deadline:
        written_before = loader.last_modified
        task = room._save_to_disc()  # noqa: SLF001 - jupyter-server-ydoc's manual-save entry point
        if task is not None:
            await task
            if loader.last_modified != written_before:
                return
        await asyncio.sleep(0.02)  # the room was applying an update, or a newer change cancelled the save
    raise ToolError(
        f"Could not save {api_path!r} within {SAVE_TIMEOUT:g} s: each save was cancelled by newer changes "
        "(the room saves by itself once edits pause), or the file is not writable."
    )


async def save_rooms_now(rooms: Iterable[Any], changed: Callable[[Any], bool], log: Any) -> None:
    """Write every document room's document that ``changed`` to disk now (the server is stopping,
    or the room is being deleted).

    A room saves a moment after the last change and cancels that pending save
    when it stops, so an edit made just before shutdown would never reach the
    disk. Rooms whose document did not change since they were loaded or saved
    are left alone: writing them would touch files nobody edited. ``log`` is the server's logger.
    """

    async def save(room: Any) -> None:
        loader, document = getattr(room, "_file", None), getattr(room, "_document", None)
        if loader is None or document is None or not room.ready or not changed(room):
            return  # not a document room, never loaded, or nothing to save
        try:
            content = await document.aget()
            await loader.maybe_save_content({"format": room.file_format, "type": room.file_type, "content": content})
        except web.HTTPError as err:  # the contents manager's answer: the file was deleted meanwhile, say
            log.info("collab-mcp did not save %s: %s", room.room_id, err.log_message or err.reason)
        except Exception:
            log.warning("collab-mcp could not save %s", room.room_id, exc_info=True)

    rooms = list(rooms)
    if rooms:
        try:
            await asyncio.wait_for(asyncio.gather(*(save(r) for r in rooms)), SAVE_ON_STOP_TIMEOUT)
        except TimeoutError:
            log.warning("collab-mcp: some documents were not saved within %ss", SAVE_ON_STOP_TIMEOUT)
