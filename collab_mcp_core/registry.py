"""The tool registry: the tools packs declared (``@tool``), and what a tool call carries.

A tool is an async function ``async def tool(ctx: ToolContext, args: Model)``
declared with :func:`collab_mcp_core.tools.tool`; its docstring is the description
the model reads and its ``args`` model is the input schema. It returns a pydantic
model (the structured content, its class is the output schema) or a
:class:`~collab_mcp_core.tools.ToolOutput` when it also returns extra content such as images.
"""

from __future__ import annotations

import functools
import json
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import mcp_types as types
from pydantic import BaseModel

from . import schemas
from .arguments import old_names
from .errors import RegistrationError
from .tools import PERMISSIONS, spec_of

if TYPE_CHECKING:
    from .context import ToolContext
    from .identity import Identity

ToolFunction = Callable[["ToolContext", BaseModel], Awaitable[Any]]


@dataclass(frozen=True)
class Tool:
    """One registered tool and the pack that gave it."""

    name: str
    description: str
    func: ToolFunction
    input_model: type[BaseModel]
    output_model: type[BaseModel] | None
    permission: str
    pack: str
    annotations: types.ToolAnnotations
    path_arg: str | None = "path"  # the argument naming the document, checked per path

    @functools.cached_property
    def path_is_optional(self) -> bool:
        """Whether the path argument may be left out (its default is None): then ``default_path`` may fill it."""
        field = self.input_model.model_fields.get(self.path_arg) if self.path_arg else None
        return field is not None and not field.is_required() and field.default is None

    @functools.cached_property
    def mcp_tool(self) -> types.Tool:
        """The tool as ``tools/list`` describes it (built once: JSON schemas are slow to generate).

        Every conversation pays for this listing, so it stays lean (see :mod:`.schemas`).
        """
        return types.Tool(
            name=self.name,
            title=self.annotations.title,
            description=self.description,
            input_schema=schemas.input_schema(self.input_model),
            # No output schema: structuredContent is the JSON the text content already carries, and
            # the description says what comes back. Advertising it cost a quarter of tools/list.
            annotations=self.annotations.model_copy(update={"title": None}),  # the tool's title says it
            _meta={"collab-mcp/pack": self.pack},
        )


@dataclass
class ToolCall:
    """What the ``call_tool`` hook sees: one validated call about to run."""

    tool: Tool
    args: BaseModel
    ctx: ToolContext
    arguments: dict[str, Any] = field(default_factory=dict)  # as the client sent them (the args were validated from them)

    @property
    def identity(self) -> Identity:
        return self.ctx.identity

    @property
    def path(self) -> str | None:
        """The document path the call names (normalized), if any."""
        return self.ctx.path


@dataclass(frozen=True)
class ResourceTemplate:
    """A family of MCP resources under one URI scheme, e.g. ``notebook://{path}``.

    ``list`` yields the concrete resources (it must not open rooms); ``read``
    returns the content of one URI: text, or bytes for binary content. Packs call ``host.resource_updated(uri)`` when
    a resource changes, and subscribed clients are told.
    """

    scheme: str
    name: str
    description: str
    mime_type: str
    list: Callable[[ToolContext], Awaitable[list[types.Resource]]]
    read: Callable[[ToolContext, str], Awaitable[str | bytes]]
    permission: str = "read"
    pack: str = ""

    @property
    def uri_template(self) -> str:
        return f"{self.scheme}://{{path}}"


class ToolRegistry:
    """Tools and resource templates by name, each recorded with the pack that gave it."""

    def __init__(self) -> None:
        self.tools: dict[str, Tool] = {}
        self.resources: dict[str, ResourceTemplate] = {}

    def register_tool(self, func: ToolFunction, *, pack: str) -> Tool:
        """Register ``func``, declared with ``@tool(...)``, as a tool of ``pack``.

        Refuses (RegistrationError, naming the tool) a function not declared with
        ``@tool``, a missing or unknown permission, a name another pack took, and
        a function whose arguments are not ``(ctx, args: PydanticModel)``.
        """
        spec = spec_of(func)
        name = (spec.name if spec else None) or getattr(func, "__name__", repr(func))
        if spec is None or spec.permission is None:
            raise RegistrationError(
                f"tool {name!r} of pack {pack!r} declares no permission: declare it with "
                f"@tool(permission=...) (one of {', '.join(PERMISSIONS)}) from collab_mcp_core"
            )
        if name in self.tools:
            raise RegistrationError(
                f"tool {name!r} from pack {pack!r} collides with the tool of the same name from pack "
                f"{self.tools[name].pack!r}; rename one (@tool(name=...)) or disable a pack"
            )
        if spec.permission not in PERMISSIONS:
            raise RegistrationError(
                f"tool {name!r}: permission must be one of {PERMISSIONS}, not {spec.permission!r}"
            )
        input_model, output_model = _models_of(func, name)
        old_names(input_model)  # a misdeclared old argument name stops the server at start, not at a call
        output_model = spec.output or output_model  # tools returning ToolOutput name their model here
        read_only = spec.permission == "read" if spec.read_only is None else spec.read_only
        tool = Tool(
            name=name,
            description=inspect.cleandoc(spec.description or func.__doc__ or name),
            func=func,
            input_model=input_model,
            output_model=output_model,
            permission=spec.permission,
            pack=pack,
            path_arg=spec.path_arg,
            annotations=types.ToolAnnotations(
                title=spec.title,
                read_only_hint=read_only,
                destructive_hint=None if read_only else bool(spec.destructive),
                idempotent_hint=None if read_only else spec.idempotent,  # the spec: meaningful only for writes
                open_world_hint=spec.open_world,
            ),
        )
        self.tools[name] = tool
        return tool

    def register_resource(self, template: ResourceTemplate, *, pack: str) -> None:
        if template.scheme in self.resources:
            raise RegistrationError(
                f"resource scheme {template.scheme!r} from pack {pack!r} is already registered by pack "
                f"{self.resources[template.scheme].pack!r}"
            )
        self.resources[template.scheme] = ResourceTemplate(**{**template.__dict__, "pack": pack})

    def keep_only(self, allowed: Iterable[str] | None, denied: Iterable[str]) -> None:
        """Apply the operator's allow and deny lists of tool names."""
        allowed_set = set(allowed) if allowed else None
        denied_set = set(denied)
        self.tools = {
            n: t for n, t in self.tools.items() if (allowed_set is None or n in allowed_set) and n not in denied_set
        }


def _models_of(func: ToolFunction, name: str) -> tuple[type[BaseModel], type[BaseModel] | None]:
    """The input model (the type of the second parameter) and output model (the return type)."""
    hints = typing.get_type_hints(func)
    params = list(inspect.signature(func).parameters)
    if len(params) != 2:
        raise RegistrationError(f"tool {name!r} must take (ctx, args); it takes {params}")
    input_model = hints.get(params[1])
    if not (isinstance(input_model, type) and issubclass(input_model, BaseModel)):
        raise RegistrationError(f"tool {name!r}: annotate its args parameter with a pydantic model")
    output = hints.get("return")
    output_model = output if isinstance(output, type) and issubclass(output, BaseModel) else None
    return input_model, output_model


def listing_size(tools: Iterable[Tool]) -> int:
    """Characters ``tools`` take in a ``tools/list`` result (``json.dumps``, default separators)."""
    return sum(len(json.dumps(t.mcp_tool.model_dump(mode="json", by_alias=True, exclude_none=True))) for t in tools)
