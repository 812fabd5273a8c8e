"""What each agent last saw of each document, so its positions mean what it meant.

An agent computes positions and whole replacements from the text it read; people
may have typed since. The pack remembers, in the caller's readings (``ctx.readings``,
dropped with its session), the text of each document (or fork) as the agent last
read it or left it after its own edit. An edit is computed against that text, then
moved over the changes others made since (:func:`collab_mcp_core.rebase`): their
typing is kept, and the agent's edit lands where it meant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collab_mcp_core import ToolContext

    from .documents import DocumentRef


def remember(ctx: ToolContext, ref: DocumentRef, fork_id: str | None, text: str) -> None:
    ctx.readings.remember(("document", ref.path, fork_id or ""), text)


def last_seen(ctx: ToolContext, ref: DocumentRef, fork_id: str | None) -> str | None:
    return ctx.readings.last_seen(("document", ref.path, fork_id or ""))
