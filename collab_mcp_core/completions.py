"""``completion/complete``: the values an argument may take, as the caller types it.

Completed: the ``{path}`` of every resource template, and the ``path``
argument of prompts (from the resources of the prompt's pack). Only paths the
caller may read are offered, at most 100 (the protocol's cap) with the total
and whether there are more. MCP completes prompt and resource-template
arguments only: tool arguments (a ``cell_id``) have no completion request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mcp_types as types

from .errors import ToolError

if TYPE_CHECKING:
    from .context import ToolContext
    from .context import HostServices as Host
    from .registry import ResourceTemplate

MAX_VALUES = 100  # the protocol's cap on values per answer
MAX_CHECKED = 2_000  # candidates checked for permission per request (bounds one request's work)


def answer(values: list[str], total: int | None = None) -> types.CompleteResult:
    total = len(values) if total is None else total
    return types.CompleteResult(
        completion=types.Completion(values=values[:MAX_VALUES], total=total, has_more=total > MAX_VALUES)
    )


def matching(candidates: list[str], typed: str) -> list[str]:
    """Candidates that start with what was typed, then those that contain it (case-insensitive)."""
    typed = typed.lower()
    starts = sorted(c for c in candidates if c.lower().startswith(typed))
    contains = sorted(c for c in candidates if typed in c.lower() and not c.lower().startswith(typed))
    return starts + contains


async def readable_paths(host: Host, ctx: ToolContext, templates: list[ResourceTemplate], typed: str) -> list[str]:
    """The document paths of ``templates`` matching ``typed`` that the caller may read."""
    candidates: set[str] = set()
    for template in templates:
        for resource in await template.list(ctx):
            candidates.add(str(resource.uri).partition("://")[2])
    permission = templates[0].permission if templates else "read"
    readable = []
    for path in matching(sorted(candidates), typed)[:MAX_CHECKED]:
        try:
            await host.check_permission(ctx.identity, permission, path, "completion/complete", ctx.handler)
        except ToolError:  # denied, or a path no one may use (a link out of the root)
            continue
        readable.append(path)
    return readable
