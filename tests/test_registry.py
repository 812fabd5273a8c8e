"""The tool registry and pack manager (pure logic, no server)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from collab_mcp_core import hookimpl
from collab_mcp_core.errors import RegistrationError
from collab_mcp_core.packs import PackManager
from collab_mcp_core.registry import ToolRegistry


class Args(BaseModel):
    path: str = Field(description="where")


class Out(BaseModel):
    ok: bool


async def tool_a(ctx, args: Args) -> Out:
    """Does A."""
    return Out(ok=True)


def test_a_tool_carries_its_pack_schema_and_annotations():
    registry = ToolRegistry()
    tool = registry.register_tool(tool_a, pack="p1", permission="write", destructive=True)
    mcp = tool.mcp_tool
    assert (tool.pack, mcp.name, mcp.description) == ("p1", "tool_a", "Does A.")
    assert mcp.input_schema["properties"]["path"]["description"] == "where"
    assert mcp.output_schema["properties"]["ok"]["type"] == "boolean"
    assert mcp.annotations.read_only_hint is False and mcp.annotations.destructive_hint is True


def test_collisions_name_both_packs():
    registry = ToolRegistry()
    registry.register_tool(tool_a, pack="p1")
    with pytest.raises(RegistrationError, match="'p2'.*'p1'"):
        registry.register_tool(tool_a, pack="p2")


def test_bad_registrations_are_refused():
    registry = ToolRegistry()
    with pytest.raises(RegistrationError, match="permission"):
        registry.register_tool(tool_a, pack="p", permission="root")

    async def untyped(ctx, args):
        return None

    with pytest.raises(RegistrationError, match="pydantic"):
        registry.register_tool(untyped, pack="p")


def test_allow_and_deny_lists():
    registry = ToolRegistry()
    registry.register_tool(tool_a, pack="p")
    registry.register_tool(tool_a, pack="p", name="tool_b")
    registry.keep_only(None, ["tool_b"])
    assert set(registry.tools) == {"tool_a"}
    registry.keep_only(["tool_b"], [])
    assert registry.tools == {}


class Pack:
    @hookimpl
    def register_tools(self, register):
        register(tool_a)


def test_pack_manager_records_which_pack_gave_each_tool():
    manager = PackManager()
    manager.register(Pack(), name="mine")
    registry = ToolRegistry()
    manager.collect_tools(registry)
    assert registry.tools["tool_a"].pack == "mine"
    assert manager.installed["mine"].tools == ["tool_a"]


async def test_deny_wins_and_abstaining_defers():
    class Allow:
        @hookimpl
        def authorize(self, identity, permission, path, tool, host):
            return True

    class Deny:
        @hookimpl
        async def authorize(self, identity, permission, path, tool, host):
            return False if path == "x" else None

    manager = PackManager()
    assert await manager.authorize(None, "read", "x", "t", None) is None
    manager.register(Allow(), name="allow")
    manager.register(Deny(), name="deny")
    assert await manager.authorize(None, "read", "x", "t", None) is False
    assert await manager.authorize(None, "read", "y", "t", None) is True
