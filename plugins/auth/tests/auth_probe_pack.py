"""A pack the auth tests load with ``--CollabMCP.extra_packs=auth_probe_pack``.

One tool per permission level, so the tests can tell "refused by policy" from
"the tool failed": the tools themselves only check the path and report it.
``probe_execute`` sleeps, so concurrent executions can overlap.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from collab_mcp_core import Deny, hookimpl, tool


class PathArgs(BaseModel):
    path: str = Field(description="A path relative to the server root.")
    content: str = Field("", description="Ignored content (to test size limits).")


class ExecuteArgs(BaseModel):
    path: str | None = Field(None, description="A notebook, or none.")
    code: str = Field("", description="Ignored code (to test size limits).")
    seconds: float = Field(0.0, ge=0, le=10, description="How long to run.")


class Probed(BaseModel):
    path: str | None
    user: str
    identity: dict[str, Any]


@tool(permission="read")
async def probe_read(ctx: Any, args: PathArgs) -> Probed:
    """Check a path as a read would."""
    return Probed(
        path=ctx.backend.normalize_path(args.path), user=ctx.identity.username, identity=ctx.identity.public()
    )


@tool(permission="write")
async def probe_write(ctx: Any, args: PathArgs) -> Probed:
    """Check a path as a write would (writes nothing)."""
    return Probed(
        path=ctx.backend.normalize_path(args.path), user=ctx.identity.username, identity=ctx.identity.public()
    )


@tool(permission="execute")
async def probe_execute(ctx: Any, args: ExecuteArgs) -> Probed:
    """Pretend to run code for a while."""
    await asyncio.sleep(args.seconds)
    path = ctx.backend.normalize_path(args.path) if args.path is not None else None
    return Probed(path=path, user=ctx.identity.username, identity=ctx.identity.public())


@hookimpl
def register_tools(register: Any) -> None:
    register(probe_read)
    register(probe_write)
    register(probe_execute)


@hookimpl
def authorize(identity: Any, permission: str, path: str | None, tool: str, host: Any) -> Any:
    # The identity "walled" may read everything but top.txt (deny wins over its scope).
    if identity.username == "walled" and path == "top.txt":
        return Deny("top.txt is walled off")
    return None
