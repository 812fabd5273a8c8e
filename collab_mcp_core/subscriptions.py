"""Resource subscriptions of handshake-era (2025-11-25) sessions.

A subscription is cheap and harmless, so any well-formed URI is accepted: one
of a document that does not exist yet fires when the document appears, and one
under a scheme no pack serves simply never fires. (``resources/read`` of such a
URI still answers "resource not found".)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable

APPEARANCE_POLL = 1.0  # seconds between looks for documents that subscribers wait for

# RFC 3986: scheme ":" then anything without spaces or control characters.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f]*$")


def well_formed(uri: str) -> bool:
    return bool(_URI.match(uri))


class Subscriptions:
    """Which sessions subscribed to which URIs, and the URIs whose document does not exist yet.

    ``exists(uri)`` says whether a URI's document exists (None: not a document
    this server serves); ``announce(uri)`` tells the URI's subscribers it changed.
    """

    def __init__(self, exists: Callable[[str], Awaitable[bool | None]], announce: Callable[[str], Awaitable[None]]) -> None:
        self._exists = exists
        self._announce = announce
        self.by_uri: dict[str, set[str]] = {}  # uri -> session ids
        self._awaited: set[str] = set()  # subscribed URIs whose document is missing
        self._poller: asyncio.Task | None = None

    async def subscribe(self, uri: str, session_id: str) -> None:
        self.by_uri.setdefault(uri, set()).add(session_id)
        if await self._exists(uri) is False:
            self._awaited.add(uri)
            if self._poller is None or self._poller.done():
                self._poller = asyncio.create_task(self._watch_for_appearance(), name="collab-mcp awaited documents")

    def unsubscribe(self, uri: str, session_id: str) -> None:
        subscribers = self.by_uri.get(uri)
        if subscribers is not None:
            subscribers.discard(session_id)
            if not subscribers:
                self._drop(uri)

    def session_closed(self, session_id: str) -> None:
        for uri in list(self.by_uri):
            self.unsubscribe(uri, session_id)

    def subscribers(self, uri: str) -> list[str]:
        return list(self.by_uri.get(uri, ()))

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    def _drop(self, uri: str) -> None:
        self.by_uri.pop(uri, None)
        self._awaited.discard(uri)

    async def _watch_for_appearance(self) -> None:
        # Runs while someone waits for a document; one stat per awaited URI and second.
        while self._awaited:
            await asyncio.sleep(APPEARANCE_POLL)
            for uri in list(self._awaited):
                if await self._exists(uri):
                    self._awaited.discard(uri)
                    await self._announce(uri)
