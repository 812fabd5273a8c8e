"""The tool registry and pack manager (pure logic, no server)."""

from __future__ import annotations

import pytest
from pydantic import AliasChoices, BaseModel, Field

from collab_mcp_core import Deny, RegistrationError, ToolContext, ToolError, hookimpl, tool
from collab_mcp_core.arguments import with_new_names
from collab_mcp_core.packs import PackManager
from collab_mcp_core.registry import ToolRegistry


class Args(BaseModel):
    path: str = Field(description="where")


class Out(BaseModel):
    ok: bool


@tool(permission="write", title="Do A", destructive=True)
async def tool_a(ctx: ToolContext, args: Args) -> Out:
    """Does A."""
    return Out(ok=True)


@tool(permission="read", name="tool_b")
async def tool_a_again(ctx: ToolContext, args: Args) -> Out:
    """Does A under another name."""
    return Out(ok=True)


def test_a_tool_carries_what_its_declaration_says():
    registry = ToolRegistry()
    declared = registry.register_tool(tool_a, pack="p1")
    mcp = declared.mcp_tool
    assert (declared.pack, declared.permission, mcp.name, mcp.title, mcp.description) == (
        "p1", "write", "tool_a", "Do A", "Does A."
    )
    assert mcp.input_schema["properties"]["path"]["description"] == "where"
    assert mcp.output_schema is None  # structuredContent is still sent; the listing stays lean
    assert mcp.annotations.read_only_hint is False and mcp.annotations.destructive_hint is True
    assert registry.register_tool(tool_a_again, pack="p1").annotations.read_only_hint is True


def test_collisions_name_both_packs():
    registry = ToolRegistry()
    registry.register_tool(tool_a, pack="p1")
    with pytest.raises(RegistrationError, match="'p2'.*'p1'"):
        registry.register_tool(tool_a, pack="p2")


async def undeclared(ctx: ToolContext, args: Args) -> Out:
    """Not declared with @tool."""
    return Out(ok=True)


@tool(title="No permission")
async def no_permission(ctx: ToolContext, args: Args) -> Out:
    """Declared, but without a permission."""
    return Out(ok=True)


@pytest.mark.parametrize("func", [undeclared, no_permission])
def test_a_tool_without_a_permission_is_refused_naming_it(func):
    with pytest.raises(RegistrationError, match=rf"tool {func.__name__!r} of pack 'p' declares no permission"):
        ToolRegistry().register_tool(func, pack="p")


def test_bad_registrations_are_refused():
    registry = ToolRegistry()
    with pytest.raises(RegistrationError, match="permission must be one of"):
        registry.register_tool(tool(permission="root")(undeclared), pack="p")  # type: ignore[arg-type]

    @tool(permission="read")
    async def untyped(ctx, args):
        return None

    with pytest.raises(RegistrationError, match="pydantic"):
        registry.register_tool(untyped, pack="p")


def test_allow_and_deny_lists():
    registry = ToolRegistry()
    registry.register_tool(tool_a, pack="p")
    registry.register_tool(tool_a_again, pack="p")
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


def test_options_at_registration_are_refused_they_belong_on_the_tool():
    class OldStyle:
        @hookimpl
        def register_tools(self, register):
            register(undeclared, permission="read")

    manager = PackManager()
    manager.register(OldStyle(), name="old")
    with pytest.raises(RegistrationError, match=r"'undeclared' of pack 'old'.*permission.*@tool"):
        manager.collect_tools(ToolRegistry())


async def test_deny_wins_and_abstaining_defers():
    class Allow:
        @hookimpl
        def authorize(self, identity, permission, path, tool, host):
            return True

    class Refuse:
        @hookimpl
        async def authorize(self, identity, permission, path, tool, host):
            return False if path == "x" else None

    class Locked:
        @hookimpl
        def authorize(self, identity, permission, path, tool, host):
            return Deny("locked/ is read-only") if path == "locked/a" else None

    manager = PackManager()
    assert await manager.authorize(None, "read", "x", "t", None) is None
    manager.register(Allow(), name="allow")
    manager.register(Refuse(), name="refuse")
    manager.register(Locked(), name="locked")
    assert await manager.authorize(None, "read", "x", "t", None) is False
    assert await manager.authorize(None, "read", "y", "t", None) is True
    assert await manager.authorize(None, "write", "locked/a", "t", None) == Deny("locked/ is read-only")


class LeanArgs(BaseModel):
    title: str = Field(description="a property named title stays")
    count: int | None = Field(None, ge=0, description="optional")
    either: int | str | None = None
    required_or_null: int | None = Field(description="required, may be null")


def test_input_schemas_are_lean():
    from collab_mcp_core.schemas import input_schema

    schema = input_schema(LeanArgs)
    assert "title" not in schema and set(schema["properties"]) == {"title", "count", "either", "required_or_null"}
    assert schema["properties"]["title"] == {"description": "a property named title stays", "type": "string"}
    # A nullable field with a null default is a plain optional field.
    assert schema["properties"]["count"] == {"type": "integer", "minimum": 0, "description": "optional"}
    assert schema["properties"]["either"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    # Null stays allowed where it is not the default: leaving it out would not mean the same thing.
    assert {"type": "null"} in schema["properties"]["required_or_null"]["anyOf"]
    assert schema["required"] == ["title", "required_or_null"]


class Renamed(BaseModel):
    path: str = Field(validation_alias=AliasChoices("path", "document_path"), description="where")


class RenamedBackwards(BaseModel):
    path: str = Field(validation_alias=AliasChoices("document_path", "path"), description="where")


@tool(permission="read")
async def renamed(ctx: ToolContext, args: Renamed) -> Out:
    """Has an old argument name."""
    return Out(ok=True)


@tool(permission="read")
async def renamed_backwards(ctx: ToolContext, args: RenamedBackwards) -> Out:
    """Declares its old name first."""
    return Out(ok=True)


def test_old_argument_names_are_mapped_once_and_not_advertised():
    registry = ToolRegistry()
    tool = registry.register_tool(renamed, pack="p")
    assert list(tool.mcp_tool.input_schema["properties"]) == ["path"]
    assert with_new_names(Renamed, {"document_path": "a"}, "renamed") == {"path": "a"}
    assert with_new_names(Renamed, {"document_path": "a", "path": "a"}, "renamed") == {"path": "a"}
    with pytest.raises(ToolError, match="'document_path' is the old name of 'path'.*give only 'path'"):
        with_new_names(Renamed, {"document_path": "a", "path": "b"}, "renamed")
    with pytest.raises(RegistrationError, match=r"AliasChoices\('path', 'old_name'"):
        registry.register_tool(renamed_backwards, pack="p")
