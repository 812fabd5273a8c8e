"""The plugin documentation lists every hook with its real signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from collab_mcp_core import hookspecs

DOCS = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text()
HOOKS = [
    name for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(func, "collab_mcp_spec")
]


def test_there_are_hooks():
    assert len(HOOKS) >= 10


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_arguments(hook):
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert re.search(rf"^### `{hook}\({re.escape(params)}\)`$", DOCS, re.M), f"docs/plugins.md lacks ### `{hook}({params})`"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook):
    assert (getattr(hookspecs, hook).__doc__ or "").strip()
