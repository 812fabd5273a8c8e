"""MCP prompts: what packs register with ``register_prompts``, and how ``prompts/get`` renders them.

A prompt is written like a tool: ``async def review_notebook(ctx: ToolContext,
args: Model) -> str``. Its docstring is the description clients show, the
fields of its pydantic model (strings) are its arguments, and it returns the
text of the user message to send (or a list of MCP ``PromptMessage``). An
argument named ``path`` is a document path: the host normalizes it, checks the
caller may read it, and completes it from the pack's resources.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

import mcp_types as types
from pydantic import BaseModel

from .errors import RegistrationError

if TYPE_CHECKING:
    from .context import ToolContext

PromptFunction = Callable[["ToolContext", BaseModel], Awaitable[Union[str, "list[types.PromptMessage]"]]]


@dataclass(frozen=True)
class Prompt:
    """One registered prompt and the pack that gave it."""

    name: str
    title: str | None
    description: str
    func: PromptFunction
    args_model: type[BaseModel]
    pack: str

    @property
    def mcp_prompt(self) -> types.Prompt:
        return types.Prompt(
            name=self.name,
            title=self.title,
            description=self.description,
            arguments=[
                types.PromptArgument(name=name, description=field.description, required=field.is_required())
                for name, field in self.args_model.model_fields.items()
            ],
        )

    async def render(self, ctx: ToolContext, args: BaseModel) -> types.GetPromptResult:
        made = await self.func(ctx, args)
        if isinstance(made, str):
            made = [types.PromptMessage(role="user", content=types.TextContent(text=made))]
        return types.GetPromptResult(description=self.description, messages=made)


class PromptRegistry:
    """Prompts by name, each recorded with its pack; a name taken by another pack is refused."""

    def __init__(self) -> None:
        self.prompts: dict[str, Prompt] = {}

    def register_prompt(
        self, func: PromptFunction, *, pack: str, name: str | None = None, title: str | None = None
    ) -> Prompt:
        name = name or func.__name__
        if name in self.prompts:
            raise RegistrationError(
                f"prompt {name!r} from pack {pack!r} collides with the prompt of the same name from pack "
                f"{self.prompts[name].pack!r}"
            )
        params = list(inspect.signature(func).parameters)
        model = typing.get_type_hints(func).get(params[1]) if len(params) == 2 else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise RegistrationError(f"prompt {name!r} must take (ctx, args) with args annotated by a pydantic model")
        prompt = Prompt(name, title, inspect.cleandoc(func.__doc__ or name), func, model, pack)
        self.prompts[name] = prompt
        return prompt
