"""The plugin documentation lists every hook with its real signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import collab_mcp_core
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


PUBLIC_API = (DOCS.split("## The public API", 1) + [""])[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("name", collab_mcp_core.__all__)
def test_public_name_is_documented(name):
    assert re.search(rf"`{re.escape(name)}[`(]", PUBLIC_API), f"docs/plugins.md's 'The public API' section lacks `{name}`"


@pytest.mark.parametrize("name", [n for n in collab_mcp_core.__all__ if not n.startswith("_")])
def test_public_name_has_a_docstring(name):
    value = getattr(collab_mcp_core, name)
    if inspect.isclass(value) or inspect.isfunction(value):  # not the type aliases (Permission, Verdict)
        assert (value.__doc__ or "").strip(), f"collab_mcp_core.{name} has no docstring"


EVENTS = (DOCS.split("## Events", 1) + [""])[1].split("\n## ", 1)[0]


def registered_events() -> list[type]:
    """The event types of the host and of every installed pack, as the host registers them."""
    from collab_mcp_core.events import HOST_EVENTS
    from collab_mcp_core.packs import PackManager

    found: list[type] = list(HOST_EVENTS)
    packs = PackManager()
    packs.load_entry_points()
    packs.collect_events(found.append)
    return found


def test_every_event_is_documented_with_its_fields():
    from collab_mcp_core import Event

    events = registered_events()
    assert {"tool_called", "tool_failed", "notebook_cell_inserted", "cells_tagged"} <= {e.event_type for e in events}
    for event in events:
        row = next((line for line in EVENTS.splitlines() if f"| `{event.event_type}` |" in line), None)
        assert row is not None, f"docs/plugins.md's 'Events' section lacks `{event.event_type}`"
        for name in set(event.model_fields) - set(Event.model_fields):
            assert f"`{name}`" in row, f"the docs of `{event.event_type}` lack its field `{name}`"
