"""Hook results that may be values or awaitables (datasette's convention)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def await_maybe(value: T | Awaitable[T]) -> T:
    """Resolve a hook result that may be a value or an awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value
