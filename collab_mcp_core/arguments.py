"""Tool and prompt arguments: old names mapped to new ones, then validated against the model.

An argument renamed by docs/conventions.md keeps its old name for one release. The
model declares it with pydantic, new name first::

    path: str = Field(validation_alias=AliasChoices("path", "document_path"), description=...)

The advertised schema names only the field (``path``). A call is mapped once, before
anything reads it (the host's path check, the ``default_path`` hook, the ``call_tool``
wrappers, the tool): an old name becomes the new one, and giving both with different
values is an error naming both.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import AliasChoices, BaseModel, ValidationError

from .errors import RegistrationError, ToolError


@functools.cache
def old_names(model: type[BaseModel]) -> dict[str, str]:
    """``{old name: field name}`` for every field declared with ``AliasChoices(field, old...)``."""
    found: dict[str, str] = {}
    for name, info in model.model_fields.items():
        choices = info.validation_alias.choices if isinstance(info.validation_alias, AliasChoices) else []
        if not choices:
            continue
        if choices[0] != name or not all(isinstance(c, str) for c in choices):
            raise RegistrationError(
                f"{model.__name__}.{name}: declare old argument names as AliasChoices({name!r}, 'old_name', ...): "
                "the field's own name first, then plain names"
            )
        for old in choices[1:]:
            if old in model.model_fields or old in found:
                raise RegistrationError(f"{model.__name__}.{name}: old name {old!r} is already another argument's")
            found[old] = name  # type: ignore[index]
    return found


def with_new_names(model: type[BaseModel], arguments: dict[str, Any], what: str) -> dict[str, Any]:
    """``arguments`` with every old name replaced by its new one (the same dict when none was used)."""
    renames = old_names(model)
    if not renames or not renames.keys() & arguments.keys():
        return arguments
    mapped = dict(arguments)
    for old, new in renames.items():
        if old not in mapped:
            continue
        value = mapped.pop(old)
        if new in mapped and mapped[new] != value:
            raise ToolError(
                f"Invalid arguments for {what!r}: {old!r} is the old name of {new!r}, and they were given "
                f"different values; give only {new!r}.",
                fields=[new, old],
            )
        mapped[new] = value
    return mapped


def validate(model: type[BaseModel], arguments: dict[str, Any], what: str) -> BaseModel:
    """The model built from ``arguments`` (new names only), or a ToolError saying what was wrong and what is valid."""
    names = [info.alias or name for name, info in model.model_fields.items()]
    unknown = sorted(set(arguments) - set(names) - set(model.model_fields))
    if unknown:
        # A misspelt argument silently ignored is a wrong call that looks right.
        raise ToolError(
            f"Invalid arguments for {what!r}: unknown argument(s) {', '.join(unknown)}. "
            f"Valid arguments: {', '.join(sorted(names)) or 'none'}.",
            fields=unknown,
        )
    try:
        return model.model_validate(arguments)
    except ValidationError as err:
        problems = []
        for e in err.errors(include_url=False):
            field_name = ".".join(str(p) for p in e["loc"]) or "(arguments)"
            problems.append(f"{field_name}: {e['msg']}")
        raise ToolError(
            f"Invalid arguments for {what!r}: " + "; ".join(problems) + f". Valid arguments: {', '.join(names) or 'none'}.",
            fields=[".".join(str(p) for p in e["loc"]) for e in err.errors()],
        ) from None
