"""A document room of a remote Jupyter server, joined over the collaboration websocket.

:class:`RemoteRoom` is what a browser is to jupyter-server-ydoc: it asks for a
collaboration session (``PUT api/collaboration/session/{path}``), opens the
room's websocket and keeps its own pycrdt document synced both ways, so an edit
to :attr:`RemoteRoom.ydoc` reaches everyone in the room and theirs reach it. It
speaks the y-protocols sync itself rather than through pycrdt's Provider: each of
our commits is written to the socket by the document's observer as it happens
(a Provider sends from a task of its own, which runs only once the tool yields),
and the room's updates we apply are not echoed back to it.
Awareness states written here with origin ``"local"`` (the agent's presence and
cursor) are sent to the room; the others' states arrive in :attr:`awareness`,
which keeps the y-protocols rules as JupyterLab does: a ``null`` state removes a
client at once, a state not renewed within :data:`OUTDATED_AFTER` seconds is
dropped (a client that vanished without saying so), and our own states are
renewed before the others would drop them. jupyter-server-ydoc only relays
awareness frames: it neither replays the states it holds to a newcomer nor answers
a y-protocols awareness query (``pycrdt.websocket.YRoom.serve`` handles sync and
awareness frames only), so people already in the room show once their client
renews its state (JupyterLab does every 15 s); other collab-mcp agents re-publish
as soon as they see us. The view survives a reconnection: states are not
forgotten because our websocket dropped, only when they time out.

When the websocket drops it reconnects (asking for a new session: a restarted
server has new session ids) and resyncs by state vectors, so nothing is sent
twice and nothing is lost. If the server's document no longer holds the history
ours was built on (the server restarted without its update store), syncing ours
into it would duplicate every cell: the room then starts over from the server's
document instead, and says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx2
import pycrdt
from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import (
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    handle_sync_message,
    read_message,
)
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from .connect import Target
from .errors import ToolError
from .handles import state_vector

log = logging.getLogger(__name__)

SYNC_TIMEOUT = 15.0  # seconds to wait for a (re)connected room to sync
# Our awareness changes go out together, at most this often (seconds). jupyter-server-ydoc writes each
# frame it forwards at once without TCP_NODELAY, so an edit right behind an awareness frame (the agent's
# presence renewed as a tool starts) waited for the receiver's delayed ACK: 45 ms instead of 3 ms.
AWARENESS_INTERVAL = 0.5
# y-protocols: a state not renewed for this long is gone (seconds); ours are renewed at half of it.
OUTDATED_AFTER = 30.0
RAW_MESSAGE = 2  # jupyter-server-ydoc's frame type for JSON messages (save requests and replies)
RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)  # seconds between reconnection attempts, the last one repeating


class RemoteRoom:
    """One room (``json:notebook:<file id>`` or ``text:file:<file id>``) of a remote server."""

    def __init__(
        self, target: Target, path: str, kind: tuple[str, str], http: httpx2.AsyncClient | None = None,
        *, outdated_after: float = OUTDATED_AFTER,
    ) -> None:
        self.target, self.path, self.kind = target, path, kind
        self.http = http or target.http_client()
        self.room_id: str | None = None
        self.ydoc = pycrdt.Doc()
        self.outdated_after = outdated_after
        self.awareness = pycrdt.Awareness(self.ydoc)
        self.awareness.set_local_state(None)  # the room itself is nobody: the agents' seats are its states
        self.synced = asyncio.Event()
        self.reconnections = 0  # how many times the websocket was opened again
        self._local_ids: set[int] = set()  # awareness client ids written here (the agent's seats)
        self._awareness_due: set[int] = set()  # changed since the last awareness frame
        self._awareness_timer: asyncio.TimerHandle | None = None
        self._ws: WebSocketClientConnection | None = None
        self._saves: dict[int, asyncio.Future[str]] = {}  # save request id -> the room's answer
        self._live: WebSocketClientConnection | None = None  # where our commits go as they happen, once synced
        self._applying = False  # while we apply the room's updates: those are not ours to send back
        self._watch_changes()
        self._task: asyncio.Task | None = None
        self._upkeep: asyncio.Task | None = None
        self._watch_awareness()

    @property
    def document(self) -> Any:
        """The room's document as jupyter-ydoc reads it (``YNotebook`` or ``YUnicode``)."""
        return YNotebook(self.ydoc) if self.kind[1] == "notebook" else YUnicode(self.ydoc)

    @property
    def clients(self) -> set[int]:
        """The other participants' awareness client ids (a server room's ``clients`` are its websockets)."""
        mine = self._local_ids | {self.awareness.client_id}
        return {c for c, state in self.awareness.states.items() if state and c not in mine}

    async def start(self) -> None:
        """Join the room and wait for the first sync."""
        self._task = asyncio.create_task(self._stay_connected(), name=f"collab-mcp room {self.path}")
        self._upkeep = asyncio.create_task(self._keep_awareness(), name=f"collab-mcp awareness {self.path}")
        await self.wait_synced()

    async def wait_synced(self, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait until the room is connected and synced, or raise a ToolError saying why not."""
        if self._task is not None and self._task.done():
            raise ToolError(f"The room of {self.path!r} is closed.")
        try:
            await asyncio.wait_for(self.synced.wait(), timeout)
        except TimeoutError:
            raise ToolError(
                f"The collaboration room of {self.path!r} on {self.target.url} is not reachable right now "
                "(reconnecting); try again in a moment."
            ) from None

    async def stop(self) -> None:
        if self._awareness_timer is not None:
            self._awareness_timer.cancel()
        for task in (self._upkeep, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._ws is not None:
            self._ws.close()

    def drop_connection(self) -> None:
        """Close the websocket as a network failure would (it reconnects by itself)."""
        if self._ws is not None:
            self._ws.close()

    # -- the connection ------------------------------------------------------------------

    async def _stay_connected(self) -> None:
        attempt = 0
        while True:
            try:
                await self._connect_once()
                attempt = 0  # it was up: retry quickly
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - every failure means: try again later
                log.warning("room %s: %s (retrying)", self.path, _reason(err))
            self.synced.clear()
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
            attempt += 1
            self.reconnections += 1

    async def _connect_once(self) -> None:
        session = await self._ask_session()
        room_id = f"{session['format']}:{session['type']}:{session['fileId']}"
        self.room_id = room_id
        ws_url = "ws" + self.target.url[4:] + f"api/collaboration/room/{room_id}?sessionId={session['sessionId']}"
        request = HTTPRequest(ws_url, headers=self.target.headers(), validate_cert=self.target.verify)
        self._ws = ws = await websocket_connect(request)
        # A tool's edit is a few small frames in a row: without this, Nagle holds the second one
        # until the server's delayed ACK (40 ms) and people see the edit that much later.
        ws.protocol.set_nodelay(True)
        channel = RoomChannel(ws, room_id, self.awareness, self._on_raw)
        try:
            missing = await self._resync(channel) if self.reconnections else None
            # Our side of the y-protocols sync, without pycrdt's Provider: our commits are written to the
            # socket from the document's observer as they happen (no task to wait for), and what we apply
            # from the room is not echoed back to it.
            _write(ws, pycrdt.create_sync_message(self.ydoc))
            if missing:  # our edits the server has not seen (made while we were cut off)
                _write(ws, create_update_message(missing))
            self._live = ws
            await asyncio.wait_for(self._read(channel, self.ydoc, until_synced=True), SYNC_TIMEOUT)
            self.synced.set()
            # A newer clock: peers that dropped our states while we were away take them again.
            self.renew_local_states(self._local_ids)
            await self._read(channel, self.ydoc)
        finally:
            self._live = None
            ws.close()

    async def _read(self, channel: RoomChannel, doc: pycrdt.Doc, *, until_synced: bool = False) -> None:
        """Apply the room's sync frames to ``doc`` and answer its sync requests, until the socket closes
        (or, ``until_synced``, until the room's answer to our sync request arrived)."""
        while (message := await channel.recv()) is not None:
            self._applying = doc is self.ydoc
            try:
                reply = handle_sync_message(message[1:], doc)
            finally:
                self._applying = False
            if reply is not None:
                _write(channel.ws, reply)
            if until_synced and message[1] == YSyncMessageType.SYNC_STEP2:
                return
        if until_synced:
            raise ConnectionError("the room's websocket closed before the document synced")

    async def _ask_session(self) -> dict[str, Any]:
        answer = await self.http.put(
            self.target.url + f"api/collaboration/session/{quote(self.path)}",
            json={"format": self.kind[0], "type": self.kind[1]},
        )
        if answer.status_code not in (200, 201):  # 201: the server indexed the file just now
            raise ToolError(f"the server refused a collaboration session for {self.path!r} (HTTP {answer.status_code})")
        return answer.json()

    async def _resync(self, channel: RoomChannel) -> bytes | None:
        """After a reconnection: what of ours the server lacks, once its document is known to hold our history.

        The server's document is first read into a fresh one, to compare state vectors: the server
        answered the sync request of an empty document, so it has not been told what we hold.
        """
        fresh = pycrdt.Doc()
        _write(channel.ws, pycrdt.create_sync_message(fresh))
        await asyncio.wait_for(self._read(channel, fresh, until_synced=True), SYNC_TIMEOUT)
        theirs = state_vector(fresh)
        ours = state_vector(self.ydoc)
        ours.pop(self.ydoc.client_id, None)  # our own unsent edits may be missing there: they are sent next
        if all(theirs.get(client, 0) >= clock for client, clock in ours.items()):
            return self.ydoc.get_update(fresh.get_state())
        log.warning("room %s: the server's document lost its history (restarted without its update store?): "
                    "starting over from it rather than duplicating its content", self.path)
        self.ydoc = fresh  # the awareness stays: who is in the room did not change
        self._watch_changes()
        return None

    # -- sending ------------------------------------------------------------------------

    def _watch_changes(self) -> None:
        doc = self.ydoc

        def send(event: Any) -> None:
            # Inside the commit of one of our transactions: the frame is on the socket before the
            # tool goes on. Cut off, nothing is sent: the resync sends it on reconnection.
            if self._live is not None and not self._applying and doc is self.ydoc:
                with contextlib.suppress(WebSocketClosedError):
                    _write(self._live, create_update_message(event.update))

        doc.observe(send)

    # -- saving --------------------------------------------------------------------------

    async def save(self, timeout: float) -> str:
        """Ask the room to save its document to disk now (as JupyterLab's Save does); its answer:
        ``success``, ``skipped`` (a save was already running) or ``failed``."""
        await self.wait_synced()
        save_id = len(self._saves) + 1
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._saves[save_id] = answer
        encoder = pycrdt.Encoder()
        encoder.write_var_uint(RAW_MESSAGE)
        encoder.write_var_string("save")
        encoder.write_var_uint(save_id)
        assert self._ws is not None
        await self._ws.write_message(encoder.to_bytes(), binary=True)
        try:
            return await asyncio.wait_for(answer, timeout)
        finally:
            self._saves.pop(save_id, None)

    def _on_raw(self, message: bytes) -> None:
        try:
            reply = json.loads(read_message(message[1:]))
        except Exception:  # noqa: BLE001 - not a reply we understand
            return
        waiting = self._saves.get(reply.get("responseTo")) if isinstance(reply, dict) else None
        if waiting is not None and not waiting.done():
            waiting.set_result(str(reply.get("status")))

    # -- awareness -----------------------------------------------------------------------

    def _watch_awareness(self) -> None:
        def on_update(topic: str, payload: tuple[dict[str, Any], Any]) -> None:
            changes, origin = payload
            if topic != "update" or origin != "local":
                return
            ids = set(changes["added"]) | set(changes["updated"]) | set(changes["removed"])
            self._local_ids |= ids - set(changes["removed"])
            self._local_ids -= set(changes["removed"])
            self._awareness_due |= ids
            if self._awareness_timer is None:
                self._awareness_timer = asyncio.get_running_loop().call_later(AWARENESS_INTERVAL, self._awareness_now)

        self.awareness.observe(on_update)

    def _awareness_now(self) -> None:
        self._awareness_timer = None
        due, self._awareness_due = self._awareness_due, set()
        task = asyncio.get_running_loop().create_task(self._send_awareness(due))
        task.add_done_callback(_ignore_result)

    async def _keep_awareness(self) -> None:
        while True:
            await asyncio.sleep(self.outdated_after / 10)  # as often as y-protocols looks
            self.keep_awareness()

    def keep_awareness(self, now: float | None = None) -> None:
        """Renew our states older than half :attr:`outdated_after`; drop the others' older than all of it."""
        now_ms = (time.time() if now is None else now) * 1000
        limit = self.outdated_after * 1000
        meta, states = self.awareness.meta, self.awareness.states
        age = {c: now_ms - meta[c]["lastUpdated"] for c in states if c in meta}
        self.renew_local_states({c for c in self._local_ids if age.get(c, 0) >= limit / 2})
        mine = self._local_ids | {self.awareness.client_id}
        gone = [c for c, a in age.items() if c not in mine and a >= limit]
        if gone:
            self.awareness.remove_awareness_states(gone, "timeout")

    def renew_local_states(self, client_ids: set[int]) -> None:
        """Publish our states again with a newer clock (peers keep a state only while it is renewed)."""
        live = sorted(c for c in client_ids if self.awareness.states.get(c) is not None)
        if not live:
            return
        encoder = pycrdt.Encoder()
        encoder.write_var_uint(len(live))
        for client_id in live:
            encoder.write_var_uint(client_id)
            encoder.write_var_uint(self.awareness.meta[client_id]["clock"] + 1)
            encoder.write_var_string(json.dumps(self.awareness.states[client_id], separators=(",", ":")))
        self.awareness.apply_awareness_update(encoder.to_bytes(), "local")  # sent by the observer

    async def _send_awareness(self, client_ids: set[int]) -> None:
        ws = self._ws
        if not client_ids or ws is None or ws.protocol is None:
            return  # sent again once connected
        update = self.awareness.encode_awareness_update(sorted(client_ids))
        with contextlib.suppress(Exception):
            await ws.write_message(create_awareness_message(update), binary=True)


class RoomChannel:
    """The sync frames of a room's websocket (a pycrdt Provider channel); awareness frames go to ``awareness``."""

    def __init__(
        self, ws: WebSocketClientConnection, path: str, awareness: pycrdt.Awareness,
        on_raw: Callable[[bytes], None] | None = None,
    ) -> None:
        self.ws, self._path, self._awareness, self._on_raw = ws, path, awareness, on_raw

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> RoomChannel:
        return self

    async def __anext__(self) -> bytes:
        message = await self.recv()
        if message is None:
            raise StopAsyncIteration
        return message

    async def recv(self) -> bytes | None:
        while True:
            message = await self.ws.read_message()
            if message is None:  # closed by either side (tornado keeps ws.protocol when the server closes it)
                return None
            if isinstance(message, str):
                continue
            if message[0] == YMessageType.SYNC:
                return message
            if message[0] == YMessageType.AWARENESS:
                with contextlib.suppress(Exception):
                    self._awareness.apply_awareness_update(read_message(message[1:]), "remote")
            elif message[0] == RAW_MESSAGE and self._on_raw is not None:
                self._on_raw(message)

    async def send(self, message: bytes) -> None:
        await self.ws.write_message(message, binary=True)


def _reason(err: BaseException) -> str:
    while isinstance(err, BaseExceptionGroup) and len(err.exceptions) == 1:  # a task group's single failure
        err = err.exceptions[0]
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _write(ws: WebSocketClientConnection, frame: bytes) -> None:
    """Write a binary frame now (tornado queues it on the socket at once); a failure is the reader's to hear."""
    ws.write_message(frame, binary=True).add_done_callback(_ignore_result)


def _ignore_result(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


