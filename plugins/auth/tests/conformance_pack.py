"""The fixtures the MCP conformance suite calls, as a collab-mcp pack.

``bench/security_scan.py`` loads it (``--CollabMCP.extra_packs=conformance_pack``)
so the suite's scenarios exercise the host's real machinery (extra content,
progress, errors, resource templates, subscriptions) instead of failing on
missing names. Nothing here is shipped.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import mcp_types as types
from pydantic import BaseModel

from collab_mcp_core import ResourceTemplate, ToolError, ToolOutput, hookimpl, tool

# A 1x1 red PNG and a tiny WAV header: valid media, a few bytes each.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d6f1b30000000049454e44ae426082"
    )
).decode()
WAV = base64.b64encode(
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00"
    b"\x80>\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"
).decode()


class NoArgs(BaseModel):
    pass


class Said(BaseModel):
    text: str


def embedded() -> types.EmbeddedResource:
    return types.EmbeddedResource(
        resource=types.TextResourceContents(
            uri="test://embedded-resource", mime_type="text/plain", text="This is an embedded resource content."
        )
    )


async def test_simple_text(ctx: Any, args: NoArgs) -> Said:
    """Return a simple text."""
    return Said(text="This is a simple text response for testing.")


async def test_image_content(ctx: Any, args: NoArgs) -> ToolOutput:
    """Return an image."""
    return ToolOutput(structured=Said(text="an image"), extra=[types.ImageContent(data=PNG, mime_type="image/png")])


async def test_audio_content(ctx: Any, args: NoArgs) -> ToolOutput:
    """Return audio."""
    return ToolOutput(structured=Said(text="audio"), extra=[types.AudioContent(data=WAV, mime_type="audio/wav")])


async def test_embedded_resource(ctx: Any, args: NoArgs) -> ToolOutput:
    """Return an embedded resource."""
    return ToolOutput(structured=Said(text="a resource"), extra=[embedded()])


async def test_multiple_content_types(ctx: Any, args: NoArgs) -> ToolOutput:
    """Return text, an image and a resource."""
    return ToolOutput(
        structured=Said(text="Multiple content types test:"),
        text="Multiple content types test:",
        extra=[types.ImageContent(data=PNG, mime_type="image/png"), embedded()],
    )


async def test_tool_with_progress(ctx: Any, args: NoArgs) -> Said:
    """Report progress 0, 50, 100."""
    for step in (0, 50, 100):
        await ctx.progress(step, 100, f"step {step}")
        await asyncio.sleep(0.05)
    return Said(text="done")


async def test_error_handling(ctx: Any, args: NoArgs) -> Said:
    """Always fail."""
    raise ToolError("This tool intentionally returns an error for testing")


STATIC = {
    "test://static-text": "This is the content of the static text resource.",
    "test://watched-resource": "Watched resource content.",
}


async def list_test_resources(ctx: Any) -> list[types.Resource]:
    return [types.Resource(uri=uri, name=uri.removeprefix("test://"), mime_type="text/plain") for uri in STATIC]


async def read_test_resource(ctx: Any, uri: str) -> str:
    if uri in STATIC:
        return STATIC[uri]
    parts = uri.removeprefix("test://").split("/")
    if len(parts) == 3 and parts[0] == "template" and parts[2] == "data":
        return f'{{"id":"{parts[1]}","templateTest":true,"data":"Data for ID: {parts[1]}"}}'
    raise ToolError(f"Unknown test resource {uri!r}")


@hookimpl
def register_tools(register: Any) -> None:
    for func in (
        test_simple_text,
        test_image_content,
        test_audio_content,
        test_embedded_resource,
        test_multiple_content_types,
        test_tool_with_progress,
        test_error_handling,
    ):
        register(tool(permission="read", output=Said)(func))


@hookimpl
def register_resources(register: Any) -> None:
    register(
        ResourceTemplate(
            scheme="test",
            name="test",
            description="Conformance fixtures.",
            mime_type="text/plain",
            list=list_test_resources,
            read=read_test_resource,
        )
    )
