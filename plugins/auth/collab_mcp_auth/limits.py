"""Limits per identity: a call rate, argument sizes, concurrent executions.

A ``call_tool`` wrapper, so every tool of every pack is covered. Refusals are
tool errors the model can act on (how long to wait, how large is allowed),
raised before the tool runs. Buckets and counters live in the server process
and are keyed by the identity (provider and username), so one busy agent does
not slow others down.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from traitlets import Float, Int, List, Unicode
from traitlets.config import Configurable

from collab_mcp_core import ToolError, hookimpl


class LimitExceeded(ToolError):
    """A call refused by a limit; it may succeed later or with a smaller argument."""

    code: ClassVar[str] = "limit_exceeded"


class Limits(Configurable):
    """Rate, size and concurrency limits of tool calls (``c.Limits.rate_per_second = 5``)."""

    # Generous by default: every agent using the server token is one identity, and
    # an agent editing cell by cell makes dozens of calls a second.
    rate_per_second = Float(100.0, help="Sustained tool calls per second per identity (0: no rate limit).").tag(
        config=True
    )
    burst = Int(200, help="Tool calls an identity may make at once before the rate applies.").tag(config=True)
    # The transport refuses bodies over CollabMCP.max_request_bytes (4 MiB = 4,194,304 bytes) with
    # HTTP 413 before this limit is weighed: the default leaves room for the rest of the request.
    max_content_chars = Int(
        4_000_000,
        help="Largest string argument (document or cell content), in characters (0: no limit). "
        "Requests over CollabMCP.max_request_bytes (4 MiB) are refused before this is checked.",
    ).tag(config=True)
    max_code_chars = Int(200_000, help="Largest code argument (code to run), in characters (0: no limit).").tag(
        config=True
    )
    code_fields = List(Unicode(), default_value=["code"], help="Argument names that hold code to run.").tag(config=True)
    max_concurrent_executions = Int(
        4, help="Tool calls needing the 'execute' permission one identity may run at the same time (0: no limit)."
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = LimitState()


@dataclass
class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` saved up."""

    rate: float
    capacity: float
    tokens: float
    updated: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """Take one token: 0.0 if there was one, else the seconds until there is."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class LimitState:
    buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)
    executing: dict[tuple[str, str], int] = field(default_factory=dict)
    max_buckets: int = 10_000

    def forget_idle(self) -> None:
        """Drop the buckets of identities idle long enough to have refilled (a fresh bucket is the same)."""
        if len(self.buckets) < self.max_buckets:
            return
        now = time.monotonic()
        for who, bucket in list(self.buckets.items()):
            if bucket.tokens + (now - bucket.updated) * bucket.rate >= bucket.capacity:
                del self.buckets[who]


def check_sizes(limits: Limits, tool: str, arguments: dict[str, Any]) -> None:
    for name, value in _strings(arguments):
        is_code = name.rsplit(".", 1)[-1] in limits.code_fields
        limit = limits.max_code_chars if is_code else limits.max_content_chars
        if limit and len(value) > limit:
            kind = "code" if is_code else "content"
            raise LimitExceeded(
                f"Argument {name!r} of {tool!r} is {len(value):,} characters; the server accepts {kind} up to "
                f"{limit:,} characters. Send it in smaller parts.",
                limit=limit,
                size=len(value),
            )


def _strings(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{name}.{key}" if name else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{name}[{i}]")


def check_rate(limits: Limits, who: tuple[str, str], tool: str) -> None:
    if limits.rate_per_second <= 0:
        return
    bucket = limits.state.buckets.get(who)
    if bucket is None:
        limits.state.forget_idle()
        capacity = float(max(limits.burst, 1))
        bucket = limits.state.buckets[who] = TokenBucket(limits.rate_per_second, capacity, capacity)
    wait = bucket.take()
    if wait:
        retry = math.ceil(wait * 10) / 10
        raise LimitExceeded(
            f"Rate limit: {who[1]!r} may make {limits.rate_per_second:g} tool calls per second (bursts of "
            f"{limits.burst}); {tool!r} was refused. Retry in {retry:g} s.",
            retry_after=retry,
        )


@hookimpl(wrapper=True)
def call_tool(call: Any) -> Any:
    limits: Limits = call.ctx.config(Limits)
    who = (call.identity.provider, call.identity.username)
    check_sizes(limits, call.tool.name, call.arguments)  # the client's own values: no model-to-dict round trip
    check_rate(limits, who, call.tool.name)
    if call.tool.permission != "execute" or limits.max_concurrent_executions <= 0:
        return (yield)
    running = limits.state.executing
    if running.get(who, 0) >= limits.max_concurrent_executions:
        raise LimitExceeded(
            f"{who[1]!r} already runs {running[who]} executions (the limit is {limits.max_concurrent_executions}); "
            f"wait for one to finish before calling {call.tool.name!r} again.",
            limit=limits.max_concurrent_executions,
        )
    running[who] = running.get(who, 0) + 1
    try:
        inner = yield
    except BaseException:
        _release(running, who)
        raise

    async def counted() -> Any:
        try:
            return await inner
        finally:
            _release(running, who)

    return counted()


def _release(running: dict[tuple[str, str], int], who: tuple[str, str]) -> None:
    running[who] -= 1
    if not running[who]:
        del running[who]


@hookimpl
def register_configurables(register: Any) -> None:
    register(Limits)
