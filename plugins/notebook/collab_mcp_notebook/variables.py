"""``inspect_variables``: the kernel's user variables, read without side effects.

The request is a silent execution of no code (``silent=True``,
``store_history=False``) whose ``user_expressions`` run the inspector: nothing
reaches the notebook, the execution count does not move, and the inspector's
own names live in a throwaway namespace, never in the user's.
"""

from __future__ import annotations

import ast
import asyncio
import json
import time

from pydantic import BaseModel, Field

from collab_mcp_core import ToolContext, ToolError, tool

from .current_notebook import PATH
from .execution import shell_reply
from .kernels import kernel_clients, session_or_error
from .live import notebook_path
from .outputs import optional

MAX_VARIABLES = 200
REPR_CHARS = 120

# Runs in a fresh globals dict (``ns``, ``hidden``, ``names`` given), leaves its answer in ``result``.
INSPECTOR = f"""
import json, reprlib, types
r = reprlib.Repr()
r.maxstring = r.maxother = {REPR_CHARS}
r.maxlist = r.maxtuple = r.maxdict = r.maxset = 8
def kind(v):
    t = type(v)
    return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
def describe(k, v):
    d = {{"name": k, "type": kind(v)}}
    shape = getattr(v, "shape", None)
    if isinstance(shape, tuple):
        d["shape"] = [int(s) for s in shape]
    elif not isinstance(v, (type, types.FunctionType)):
        try:
            d["length"] = len(v)
        except Exception:
            pass
    try:
        d["repr"] = r.repr(v)[:{REPR_CHARS * 2}]
    except Exception as e:
        d["repr"] = "<repr failed: " + type(e).__name__ + ">"
    return d
if names is None:
    chosen = [k for k, v in ns.items()
              if not k.startswith("_") and k not in hidden and not isinstance(v, types.ModuleType)]
else:
    chosen = names
result = json.dumps({{
    "variables": [describe(k, ns[k]) for k in chosen[:{MAX_VARIABLES}] if k in ns],
    "missing": [k for k in chosen if k not in ns],
    "total": len(chosen),
}})
"""


def _expression(names: list[str] | None) -> str:
    """One expression for user_expressions: run INSPECTOR in a fresh namespace and give back its result."""
    return (
        "(lambda g: (exec(" + repr(INSPECTOR) + ", g), g['result'])[1])"
        "({'ns': get_ipython().user_ns, 'hidden': get_ipython().user_ns_hidden, 'names': " + repr(names) + "})"
    )


class InspectArgs(BaseModel):
    path: str | None = PATH
    names: list[str] | None = Field(None, description="Only these variables (default: every user variable).")
    timeout: float = Field(10.0, gt=0, le=60, description="Seconds to wait for a busy kernel.")


class Variable(BaseModel):
    name: str
    type: str
    shape: list[int] | None = optional("For arrays and data frames.")
    length: int | None = optional("len() of the value, when it has one.")
    repr: str = Field(description="A short repr (cut).")


class Variables(BaseModel):
    path: str
    kernel_id: str
    variables: list[Variable]
    missing: list[str] = Field(description="Names asked for that the kernel does not have.")
    total: int = Field(description="How many variables matched (at most 200 are listed).")


@tool(permission="execute", title="Inspect kernel variables", destructive=False, idempotent=True)
async def inspect_variables(ctx: ToolContext, args: InspectArgs) -> Variables:
    """Names, types, shapes or lengths and short reprs of the kernel's user variables, read silently:
    nothing appears in the notebook and the execution count does not move (Python kernels)."""
    for name in args.names or []:
        if not name.isidentifier():
            raise ToolError(f"{name!r} is not a variable name (a Python identifier).")
    api_path = await notebook_path(ctx)
    session = await session_or_error(ctx, api_path)
    kernel_id = session["kernel"]["id"]
    await _check_python(ctx, session["kernel"].get("name") or "")
    busy = ToolError(
        f"The kernel of {api_path!r} did not answer within {args.timeout:g}s: it is busy running something. "
        "Nothing was changed; try again when it is idle, or pass a longer timeout."
    )
    began = time.monotonic()
    try:  # a kernel busy with a run answers nothing, and one of our runs holds the client: bound both waits
        kernel = await asyncio.wait_for(kernel_clients(ctx.host).get(ctx, kernel_id), args.timeout)
        await asyncio.wait_for(kernel.lock.acquire(), max(0.01, args.timeout - (time.monotonic() - began)))
    except TimeoutError:
        raise busy from None
    try:
        msg_id = kernel.client.execute(
            "", silent=True, store_history=False, user_expressions={"variables": _expression(args.names)},
            allow_stdin=False,
        )
        reply = await shell_reply(kernel.client, msg_id, max(0.05, args.timeout - (time.monotonic() - began)))
    finally:
        kernel.lock.release()
    if not reply:
        raise busy
    answer = (reply.get("user_expressions") or {}).get("variables") or {}
    if answer.get("status") != "ok":
        raise ToolError(f"The kernel could not inspect its variables: {answer.get('ename')}: {answer.get('evalue')}.")
    found = json.loads(ast.literal_eval(answer["data"]["text/plain"]))
    return Variables(path=api_path, kernel_id=kernel_id, **found)


async def _check_python(ctx: ToolContext, kernel_name: str) -> None:
    spec = (await ctx.backend.kernels.kernel_specs()).get(kernel_name) or {}
    language = (spec.get("spec") or {}).get("language") or "unknown"
    if str(language).lower() != "python":
        raise ToolError(
            f"inspect_variables supports Python kernels (ipykernel); this notebook's kernel {kernel_name!r} runs "
            f"{language}. Use execute_code with that language's own listing instead."
        )
