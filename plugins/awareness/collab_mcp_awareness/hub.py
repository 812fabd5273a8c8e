"""The pack's live state for one host: the agents' awareness entries, the watched rooms, recent activity.

Each agent (one per MCP session) gets its own awareness client id in every
room it joins, so several agents in one room are distinct collaborators. The
entries are written into the room's ``pycrdt.Awareness`` as updates with
origin ``"local"``: pycrdt-websocket's room broadcasts exactly those to its
websocket clients, so JupyterLab receives them as it receives any peer's.

Cursor following (:mod:`.following`) moves the agent's cursor on every edit, but
publishes it with :meth:`AwarenessHub.publish_soon`: after the edit's document
update, at most once per ``CURSOR_INTERVAL`` per room (moves in between fold into
one), and not at all when the state did not change. People still watch the cursor
follow the work; their browsers are not sent a frame per edit.

Three things keep them visible and honest:
- a heartbeat re-publishes them (Yjs peers drop a state not renewed within 30 s);
- when a new client appears in a room, they are re-published at once (pycrdt
  rooms do not send existing states to a new joiner);
- leaving publishes a ``null`` state, so peers drop the agent immediately.

The hub hears of rooms and of people joining and leaving them from the backend's
room events (``backend.room_events``), observes each room's awareness to know when
people move (last activity), and emits ``presence_changed`` events. Its one timer
is the heartbeat, which also lets idle agents leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycrdt import Encoder

from .activity_log import ActivityLog
from .config import AwarenessPack
from .events import PresenceChanged
from .names import agent_name, client_label, initials_of, pick_colour
from .rooms import GLOBAL_AWARENESS, all_rooms

if TYPE_CHECKING:
    from collab_mcp_core import Event, Identity, RoomEvent

log = logging.getLogger(__name__)

STATUSES = ("online", "away", "busy", "offline")
HEARTBEAT_SECONDS = 10.0  # well under the 30 s after which Yjs peers drop a silent state
IDLE_CHECK_SECONDS = 0.5  # how often agents past presence_idle_timeout are let go
CURSOR_INTERVAL = 0.25  # seconds: at most one cursor-following state per agent and room in this time


def now_iso(at: float | None = None) -> str:
    return datetime.fromtimestamp(at if at is not None else time.time(), UTC).isoformat()


@dataclass
class Cursor:
    """The agent's cursor in one document, as the model gave it and as published."""

    line: int
    column: int
    cell_id: str | None
    anchor: tuple[int, int] | None  # the other end of the selection (line, column), if any
    relative: list[dict[str, Any]]  # JupyterLab-shaped ``cursors`` entries


@dataclass
class Seat:
    """An agent's awareness entry in one room."""

    room_id: str
    room: Any
    client_id: int
    clock: int = 0
    cursor: Cursor | None = None
    published: dict[str, Any] | None = None  # the state last written
    written_at: float = float("-inf")  # when (monotonic seconds)
    pending: asyncio.TimerHandle | None = None  # a publish_soon not written yet
    prepare: Callable[[], None] | None = None  # what it runs first (placing a followed cursor)


@dataclass
class Agent:
    """One MCP session's presence."""

    key: str
    identity: Identity
    name: str  # as JupyterLab shows it: the MCP client and the user (names.agent_name)
    color: str
    status: str = "online"
    message: str | None = None
    last_activity: float = field(default_factory=time.time)
    seats: dict[str, Seat] = field(default_factory=dict)  # document rooms it joined, by room id
    paths: dict[str, str] = field(default_factory=dict)  # room id -> document path
    global_seat: Seat | None = None
    current: str | None = None  # the document it last worked in
    calls: int = 0  # its tool calls running now: an agent waiting on a long run is not idle

    @property
    def visible(self) -> bool:
        return self.status != "offline"

    @property
    def user_id(self) -> str:
        """The agent's ``username`` in awareness: its user's, marked with its MCP session.

        JupyterLab lists one collaborator per username (and hides the page's own
        user), so two agents of one user, or the agent of the person looking,
        would not show under the plain username.
        """
        session = "agent" if self.key.startswith("user:") else self.key[:8]
        return f"{self.identity.username}/{session}"

    def user(self) -> dict[str, Any]:
        """The ``user`` field JupyterLab reads (collaborator list, cursor flags)."""
        return {
            "username": self.user_id,
            "name": self.name,
            "display_name": self.name,
            "initials": initials_of(self.name),
            "color": self.color,
            "avatar_url": self.identity.avatar_url,
        }

    def state(self, seat: Seat) -> dict[str, Any]:
        # Never carry "autosave": false: the room would stop saving the document.
        state: dict[str, Any] = {
            "user": self.user(),
            "agent": {"status": self.status, "message": self.message, "session": self.key},
        }
        if seat is self.global_seat:
            state["documents"] = sorted(set(self.paths.values()))
            if self.current:
                state["current"] = f"RTC:{self.current}"  # JupyterLab shows and opens the part after ':'
        elif seat.cursor is not None:
            state["cursors"] = seat.cursor.relative
        return state


def left_event(agent: Agent, room_id: str, path: str, status: str) -> PresenceChanged:
    """The event saying an agent left a room (it stepped out, idled, or its MCP session ended)."""
    return PresenceChanged(
        actor=agent.identity.username, change="left", user_id=agent.user_id, display_name=agent.name,
        is_agent=True, status=status, path=path, session_id=room_id,
    )


def _agent_key(session_id: str | None, username: str | None) -> str:
    # Without an MCP session (the 2026-07-28 protocol has none) the identity is the key.
    return session_id or f"user:{username}"


class AwarenessHub:
    """Agents' presence, room observers and the activity log of one collab-mcp host."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.agents: dict[str, Agent] = {}
        self.activity = ActivityLog()
        self.last_change: dict[tuple[str, int], float] = {}  # (room id, client id) -> when its state changed
        self._watched: dict[str, tuple[Any, str]] = {}  # room id -> (room, awareness subscription)
        self._seen: dict[tuple[str, int], dict[str, Any]] = {}  # people reported joined, to report leaves
        self._tasks: set[asyncio.Task] = set()
        self._loop_task: asyncio.Task | None = None
        self._unsubscribe: Any = None  # from the backend's room events
        self.calls: dict[str, int] = {}  # agent key -> its tool calls running now

    # -- agents ----------------------------------------------------------------------------

    @staticmethod
    def key_of(ctx: Any) -> str:
        return _agent_key(ctx.session_id, ctx.identity.username)

    def agent(self, ctx: Any) -> Agent:
        """The calling agent's presence (created on first use), marked active now."""
        key = self.key_of(ctx)
        agent = self.agents.get(key)
        if agent is None:
            identity = ctx.identity
            colour = pick_colour(key, identity.color, (a.color for a in self.agents.values()))
            name = agent_name(client_label(ctx), identity)
            agent = self.agents[key] = Agent(key=key, identity=identity, name=name, color=colour)
        agent.last_activity = time.time()
        return agent

    def touch(self, ctx: Any) -> None:
        """Mark the caller active, if it has a presence (creates none)."""
        agent = self.agents.get(self.key_of(ctx))
        if agent is not None:
            agent.last_activity = time.time()

    def author(self, event: Any) -> Agent | None:
        """The agent whose call caused ``event`` (one user may run several), if it has a presence."""
        return self.agents.get(_agent_key(event.session_id, event.actor))

    def touch_author(self, event: Any) -> None:
        """An event says someone did something: if an agent did, mark it active."""
        agent = self.author(event)
        if agent is not None:
            agent.last_activity = time.time()

    def agent_of_client(self, room_id: str, client_id: int) -> Agent | None:
        for agent in self.agents.values():
            seat = agent.seats.get(room_id) if room_id != GLOBAL_AWARENESS else agent.global_seat
            if seat is not None and seat.client_id == client_id:
                return agent
        return None

    def join(self, agent: Agent, room_id: str, room: Any, path: str) -> tuple[Seat, bool]:
        """Seat the agent in a room (publishing its state); returns the seat and whether it is new."""
        seat = agent.seats.get(room_id)
        joined = seat is None
        if seat is None:
            seat = agent.seats[room_id] = Seat(room_id, room, _free_client_id(room))
        agent.paths[room_id] = path
        agent.current = path
        self._watch(room_id, room)
        self.publish(agent, seat)
        self.sync_global(agent)
        return seat, joined

    def leave(self, agent: Agent, room_id: str) -> None:
        seat = agent.seats.pop(room_id)
        path = agent.paths.pop(room_id, None)
        if seat.pending is not None:
            seat.pending.cancel()
        _write_state(seat, None)
        if agent.current == path:
            agent.current = next(iter(agent.paths.values()), None)
        self.sync_global(agent)

    def publish(self, agent: Agent, seat: Seat) -> None:
        """Write (or re-write, renewing it) the agent's state in one room; hidden agents are removed."""
        _write_state(seat, agent.state(seat) if agent.visible else None)

    def publish_soon(self, agent: Agent, seat: Seat, prepare: Callable[[], None] | None = None) -> None:
        """Publish the agent's state in one room soon, running ``prepare`` first (the latest one wins).

        Scheduled rather than written now, so the document update of the edit under way
        (already queued to the room's websockets) goes first; at most one write per
        ``CURSOR_INTERVAL``, and none when the state is what was last written.
        """
        seat.prepare = prepare
        if seat.pending is None:
            delay = max(0.0, seat.written_at + CURSOR_INTERVAL - time.monotonic())
            seat.pending = asyncio.get_running_loop().call_later(delay, self._publish_pending, agent, seat)

    def publish_cursor(self, agent: Agent, seat: Seat, cursor: Cursor) -> None:
        """Publish a cursor the agent placed itself, now: a cursor following its edits, not yet
        placed, gives way to it (it would otherwise move the cursor back to the edited cell)."""
        seat.prepare = None
        seat.cursor = cursor
        self.publish(agent, seat)

    def flush(self, room_id: str) -> None:
        """Write now what ``publish_soon`` has pending in one room (before reading its states)."""
        for agent in self.agents.values():
            seat = agent.seats.get(room_id)
            if seat is not None and seat.pending is not None:
                seat.pending.cancel()
                self._publish_pending(agent, seat)

    def _publish_pending(self, agent: Agent, seat: Seat) -> None:
        seat.pending = None
        prepare, seat.prepare = seat.prepare, None
        if agent.seats.get(seat.room_id) is not seat:
            return  # it left the room meanwhile
        if prepare is not None:
            try:
                prepare()
            except Exception:
                log.exception("could not place the agent's cursor in room %s", seat.room_id)
        state = agent.state(seat) if agent.visible else None
        if state != seat.published:
            _write_state(seat, state)

    def publish_all(self, agent: Agent) -> None:
        for seat in agent.seats.values():
            self.publish(agent, seat)
        self.sync_global(agent)

    def close(self, key: str) -> Agent | None:
        """Drop an agent (its MCP session ended): its states leave every room at once."""
        agent = self.agents.pop(key, None)
        if agent is None:
            return None
        for room_id in list(agent.seats):
            self.leave(agent, room_id)
        if agent.global_seat is not None:
            _write_state(agent.global_seat, None)
            agent.global_seat = None
        return agent

    def leave_idle(self, timeout: float, now: float | None = None) -> None:
        """Agents without a call for ``timeout`` seconds (0: never) leave every document they are in.

        A call still running (a long execution) keeps its agent; the next call brings it back.
        """
        if timeout <= 0:
            return
        now = time.time() if now is None else now
        for agent in list(self.agents.values()):
            if not agent.seats or self.calls.get(agent.key) or now - agent.last_activity < timeout:
                continue
            rooms = dict(agent.paths)
            for room_id in list(agent.seats):
                self.leave(agent, room_id)
            for room_id, path in rooms.items():
                self.emit_soon(left_event(agent, room_id, path, agent.status))

    def sync_global(self, agent: Agent, *, renew: bool = True) -> None:
        """Show the agent in JupyterLab's collaborator list (the global awareness room) while it is in a document.

        ``renew`` re-writes an existing entry (after a change, or as the heartbeat).
        """
        room = all_rooms(self.host.backend).get(GLOBAL_AWARENESS)
        seat = agent.global_seat
        wanted = room is not None and agent.visible and bool(agent.seats)
        if seat is not None and (not wanted or seat.room is not room):
            _write_state(seat, None)
            agent.global_seat = seat = None
        if wanted:
            if seat is None:
                seat = agent.global_seat = Seat(GLOBAL_AWARENESS, room, _free_client_id(room))
                self._watch(GLOBAL_AWARENESS, room)
            elif not renew:
                return
            _write_state(seat, agent.state(seat))

    # -- events ----------------------------------------------------------------------------

    def emit_soon(self, event: Event) -> None:
        """Emit an event from synchronous code (awareness callbacks)."""
        task = asyncio.get_running_loop().create_task(self.host.events.emit(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- watching rooms --------------------------------------------------------------------

    def start(self) -> None:
        if self._loop_task is None:
            self._unsubscribe = self.host.backend.room_events.subscribe(self._on_room)
            self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for key in list(self.agents):
            self.close(key)

    async def _run(self) -> None:
        """The heartbeat: renew the agents' states, and let idle agents go."""
        last_beat = time.monotonic()
        while True:
            await asyncio.sleep(IDLE_CHECK_SECONDS)
            try:
                if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                    last_beat = time.monotonic()
                    self._renew()
                self.leave_idle(self.host.config(AwarenessPack).presence_idle_timeout)
            except Exception:
                log.exception("awareness heartbeat failed")

    def _renew(self) -> None:
        """Re-publish every agent's states in the rooms still open (closed ones get them when they reopen)."""
        rooms = all_rooms(self.host.backend)
        for agent in list(self.agents.values()):
            for room_id, seat in agent.seats.items():
                if rooms.get(room_id) is seat.room:
                    self.publish(agent, seat)
            self.sync_global(agent)

    def _on_room(self, event: RoomEvent) -> None:
        room_id, room = event.room_id, event.room
        if event.change == "opened":
            self._watch(room_id, room)
            for agent in self.agents.values():
                seat = agent.seats.get(room_id)
                if seat is not None and seat.room is not room:  # re-created: a new awareness that has never seen us
                    seat.room, seat.client_id, seat.clock = room, _free_client_id(room), 0
                    self.publish(agent, seat)
                if room_id == GLOBAL_AWARENESS:
                    self.sync_global(agent, renew=False)
        elif event.change == "closed":
            watched = self._watched.get(room_id)
            if watched is not None and watched[0] is room:
                self._watched.pop(room_id)
                with contextlib.suppress(Exception):
                    room.awareness.unobserve(watched[1])
            if room_id == GLOBAL_AWARENESS:
                for agent in self.agents.values():
                    self.sync_global(agent, renew=False)
            # agents stay members of a closed document room and reappear in it if it reopens
        elif event.change == "joined" and event.client_id is not None and event.user is not None:
            if self.agent_of_client(room_id, event.client_id):
                return  # an agent's own seat
            updated = room.awareness.meta.get(event.client_id, {}).get("lastUpdated")
            self.last_change[(room_id, event.client_id)] = updated / 1000 if updated else time.time()
            self._seen[(room_id, event.client_id)] = event.user
            self._report(room_id, event.path, event.user, "joined")
            # A new joiner only learns about states published after it arrived: re-publish ours.
            asyncio.get_running_loop().call_soon(self._republish_room, room_id)
        elif event.change == "left" and event.client_id is not None:
            self.last_change.pop((room_id, event.client_id), None)
            user = self._seen.pop((room_id, event.client_id), None)
            if user is not None:
                self._report(room_id, event.path, user, "left")

    def _watch(self, room_id: str, room: Any) -> None:
        """Observe a room's awareness for people's activity (joins and leaves come as room events)."""
        watched = self._watched.get(room_id)
        if watched is not None and watched[0] is room:
            return
        ref = weakref.ref(room)
        subscription = room.awareness.observe(lambda topic, changes: self._on_awareness(room_id, ref, topic, changes))
        self._watched[room_id] = (room, subscription)

    def _on_awareness(self, room_id: str, ref: weakref.ref, topic: str, payload: tuple[dict[str, Any], Any]) -> None:
        changes, origin = payload
        room = ref()
        if topic != "change" or origin == "local" or room is None or self._watched.get(room_id, (None,))[0] is not room:
            return  # our own writes, the server's, or a room we no longer watch
        now = time.time()
        for client_id in changes["updated"]:
            if (room_id, client_id) in self._seen:
                self.last_change[(room_id, client_id)] = now

    def _republish_room(self, room_id: str) -> None:
        for agent in self.agents.values():
            seat = agent.seats.get(room_id) if room_id != GLOBAL_AWARENESS else agent.global_seat
            if seat is not None and agent.visible:
                _write_state(seat, agent.state(seat))

    def _report(self, room_id: str, path: str | None, user: dict[str, Any], change: str) -> None:
        if room_id == GLOBAL_AWARENESS:
            return  # being in JupyterLab is not joining a document
        username = str(user.get("username") or user.get("name") or "unknown")
        self.emit_soon(
            PresenceChanged(
                actor=username, change=change, user_id=username,
                display_name=str(user.get("display_name") or user.get("name") or username),
                is_agent=False, path=path, session_id=room_id,
            )
        )


def _free_client_id(room: Any) -> int:
    # Yjs client ids are uint32; stay below 2**31 so every JavaScript peer handles them plainly.
    taken = set(room.awareness.states) | set(room.awareness.meta)
    while True:
        client_id = random.randrange(1, 2**31)
        if client_id not in taken:
            return client_id


def _write_state(seat: Seat, state: dict[str, Any] | None) -> None:
    """Apply an awareness update for the seat's client id, broadcast to the room's websocket clients.

    Origin ``"local"`` is what pycrdt-websocket's room broadcasts; a higher clock
    makes every peer accept it, a ``null`` state makes them drop the client at once.
    """
    # Newer than whatever the room holds for the seat: a remote room renews our states itself.
    seat.clock = max(seat.clock, seat.room.awareness.meta.get(seat.client_id, {}).get("clock", 0)) + 1
    seat.published, seat.written_at = state, time.monotonic()
    encoder = Encoder()
    encoder.write_var_uint(1)
    encoder.write_var_uint(seat.client_id)
    encoder.write_var_uint(seat.clock)
    encoder.write_var_string(json.dumps(state, separators=(",", ":")) if state is not None else "null")
    try:
        seat.room.awareness.apply_awareness_update(encoder.to_bytes(), "local")
    except RuntimeError:
        # anyio's "task group is not active": the room's tasks ended (the server is stopping and
        # its rooms stopped first), so no websocket is left to tell.
        log.debug("room %s has stopped: an agent's awareness state was not sent", seat.room_id)
    except Exception:
        log.exception("could not publish an agent's awareness state in room %s", seat.room_id)


_HUBS: weakref.WeakKeyDictionary[Any, AwarenessHub] = weakref.WeakKeyDictionary()


def hub_for(host: Any) -> AwarenessHub:
    """The hub of a host (one per Jupyter server)."""
    hub = _HUBS.get(host)
    if hub is None:
        hub = _HUBS[host] = AwarenessHub(host)
    return hub
