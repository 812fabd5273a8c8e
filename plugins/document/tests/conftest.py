"""Fixtures shared by the document pack's tests."""

from __future__ import annotations

import asyncio
import time

import pytest

from collab_mcp_core import document_version
from collab_mcp_core.testing import call


def version_of(content: str) -> str:
    """The version of a text document that holds ``content`` (the same as get_document reports)."""
    from jupyter_ydoc import YUnicode

    doc = YUnicode()
    doc.set(content)
    return document_version(doc.ydoc)


async def wait_for_history(session, path: str, count: int, timeout: float = 10.0, newest: str | None = None) -> dict:
    """The history once it lists ``count`` versions, the newest with content ``newest`` if given
    (the room writes its store in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        history = await call(session, "get_document_history", path=path, limit=50)
        ready = history["total_versions"] >= count and (
            newest is None or history["versions"][0]["version"] == version_of(newest)
        )
        if ready or time.monotonic() > deadline:
            return history
        await asyncio.sleep(0.1)


@pytest.fixture
def history_with():
    """``await history_with(session, path, count, newest=...)``: the history once it has caught up."""
    return wait_for_history


@pytest.fixture
def text_version():
    """``text_version(content)``: the version of a text document that holds ``content``."""
    return version_of
