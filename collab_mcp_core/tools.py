"""Declaring a tool: ``@tool(...)`` keeps every fact about a tool on the tool itself.

A tool is ``async def name(ctx: ToolContext, args: ArgsModel) -> OutputModel``: its
docstring is the description the model reads, ``args``'s pydantic model the input
schema, the return annotation the output schema. What the host cannot read off the
function (the permission, annotations, which argument names the document) is declared
with :func:`tool`. The pack's ``register_tools`` hook then only lists its tools::

    @tool(permission="write", title="Insert a cell", destructive=False)
    async def insert_cell(ctx: ToolContext, args: InsertArgs) -> Inserted:
        ...

    @hookimpl
    def register_tools(register):
        register(insert_cell)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import mcp_types as types
from pydantic import BaseModel

Permission = Literal["read", "write", "execute", "admin"]
PERMISSIONS: tuple[str, ...] = ("read", "write", "execute", "admin")

F = TypeVar("F", bound=Callable[..., Any])

_SPEC_ATTRIBUTE = "__collab_mcp_tool__"


@dataclass(frozen=True)
class ToolSpec:
    """Everything ``@tool(...)`` declared about one function."""

    permission: str | None
    name: str | None = None
    title: str | None = None
    description: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool = False
    output: type[BaseModel] | None = None
    path_arg: str | None = "path"


def tool(
    *,
    permission: Permission | None = None,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    read_only: bool | None = None,
    destructive: bool | None = None,
    idempotent: bool | None = None,
    open_world: bool = False,
    output: type[BaseModel] | None = None,
    path_arg: str | None = "path",
) -> Callable[[F], F]:
    """Declare a function as a tool; the function itself is returned unchanged.

    - ``permission``: ``read``, ``write``, ``execute`` or ``admin``; required (a tool
      registered without one stops the server at start-up, naming the tool).
    - ``name``: the tool's name (default: the function's name); ``description``: default
      the docstring; ``title``: a human-readable name.
    - ``read_only`` (default: ``permission == "read"``), ``destructive``, ``idempotent``,
      ``open_world``: the MCP annotations clients show.
    - ``output``: the output model when the function returns :class:`ToolOutput`
      (otherwise its return annotation is used).
    - ``path_arg``: the argument that names the document (``path``; None for tools
      about no document). The host normalizes it once, checks the permission on it
      and hands it to the tool as ``ctx.path``.
    """
    spec = ToolSpec(
        permission=permission, name=name, title=title, description=description, read_only=read_only,
        destructive=destructive, idempotent=idempotent, open_world=open_world, output=output, path_arg=path_arg,
    )

    def declare(func: F) -> F:
        setattr(func, _SPEC_ATTRIBUTE, spec)
        return func

    return declare


def spec_of(func: Callable[..., Any]) -> ToolSpec | None:
    """What ``@tool`` declared on ``func``, or None if it was not declared."""
    return getattr(func, _SPEC_ATTRIBUTE, None)


@dataclass
class ToolOutput:
    """A tool's result when it is more than its output model: extra content (images...) or other text.

    ``structured`` is the output model (the structured content); ``text`` replaces the
    JSON text the model otherwise reads; ``extra`` adds MCP content blocks.
    """

    structured: BaseModel
    text: str | None = None
    extra: list[types.ContentBlock] = field(default_factory=list)
