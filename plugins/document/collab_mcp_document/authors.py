"""Who made a change: agent edits carry their author while their transaction commits.

The room's update store records updates but not who made them. Agent edits
happen in a transaction opened by :func:`agent_transaction`, which names the
agent in a context variable that the history recorder reads while the
transaction commits (pycrdt calls document observers synchronously then).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

ORIGIN_PREFIX = "collab-mcp:"

current_author: contextvars.ContextVar[str | None] = contextvars.ContextVar("collab_mcp_document_author", default=None)


@contextlib.contextmanager
def agent_transaction(ydoc: Any, username: str) -> Iterator[None]:
    """One transaction on ``ydoc`` attributed to the agent ``username``."""
    token = current_author.set(username)
    try:
        with ydoc.transaction(origin=ORIGIN_PREFIX + username):
            yield
    finally:
        current_author.reset(token)
