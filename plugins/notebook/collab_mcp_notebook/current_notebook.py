"""Each MCP session's current notebook: the one notebook tools use when ``path`` is left out.

``create_notebook_session(path)`` makes ``path`` the session's current notebook
(and so its kernel: the notebook's). It lives in the caller's state
(``ctx.state``), which belongs to the MCP session and ends with it; sessions
never see each other's. On the session-less 2026-07-28 revision the caller is
the user, so the current notebook is the user's.

The host asks the pack for it (``default_path`` hook) before checking the
permission, so a call without ``path`` is authorized on the current notebook
exactly as if it had named it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from collab_mcp_core import ToolError

if TYPE_CHECKING:
    from collab_mcp_core import ToolContext

KEY = "current_notebook"  # in the notebook pack's per-caller state; the awareness pack reports it too

PATH = Field(None, description="Notebook path (default: the session's current notebook).")


def current_notebook(ctx: ToolContext) -> str | None:
    """The caller's current notebook, if it made one current."""
    return ctx.state.get(KEY)


def make_current(ctx: ToolContext, api_path: str) -> None:
    ctx.state[KEY] = api_path


def named_or_current(ctx: ToolContext, path: str | None) -> str:
    """The notebook a call is about: the one it named, or the current one (the host put either,
    normalized and checked, in ``ctx.path``)."""
    if ctx.path is not None:
        return ctx.path
    if path is not None:  # a call that did not come through the host's checks (none today)
        return path
    raise ToolError(
        "No notebook given, and this MCP session has no current notebook. Pass path (e.g. "
        "path='analysis.ipynb'), or call create_notebook_session(path=...) once: that notebook becomes the "
        "session's current one, used whenever path is left out.",
        fields=["path"],
    )
