"""The logging capability: logging/setLevel per session, and what the server tells agents unasked."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from collab_mcp_core.testing import call, connect, join_room

TESTS = Path(__file__).parent
KERNEL_SCAN = 2.0  # seconds: the server looks for new kernels every second, to hear when they die
NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


class Heard:
    """The notifications/message a session received."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def __call__(self, params) -> None:
        self.messages.append({"level": params.level, "logger": params.logger, **params.data})

    async def wait_for(self, event: str, timeout: float = 30.0) -> dict:
        for _ in range(int(timeout * 10)):
            found = [m for m in self.messages if m.get("event") == event]
            if found:
                return found[0]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {event} message within {timeout} s; heard {self.messages}")


@pytest.fixture(scope="module")
def server(collab_server_factory):
    return collab_server_factory(
        "--ServerApp.contents_manager_class=failing_saves.FailingSaves",
        env={"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])},
    )


async def test_a_kernel_that_dies_is_told_at_warning_and_not_at_error(server):
    (server.root / "k.ipynb").write_text(json.dumps(NOTEBOOK))
    warned, strict = Heard(), Heard()
    async with connect(server, logging_callback=warned) as agent, connect(server, logging_callback=strict) as other:
        await agent.set_logging_level("warning")
        await other.set_logging_level("error")
        ran = await call(agent, "execute_code", path="k.ipynb", code="import os; print(os.getpid())")
        pid = int("".join(o.get("text", "") for o in ran["outputs"]).strip())
        await asyncio.sleep(KERNEL_SCAN)
        os.kill(pid, signal.SIGKILL)
        message = await warned.wait_for("kernel_died")
        await asyncio.sleep(1.0)  # sent to both sessions in one pass; give the second one a moment
    assert message["level"] == "warning" and message["path"] == "k.ipynb" and message["restarting"] is True
    assert "died" in message["message"] and message["logger"] == "collab-mcp"
    assert [m for m in strict.messages if m.get("event") == "kernel_died"] == []


async def test_a_document_reloaded_from_disk_is_a_warning(server):
    path = server.root / "r.md"
    path.write_text("first\n")
    heard = Heard()  # this session never sets a level: warnings and above reach it
    async with connect(server, logging_callback=heard) as agent, join_room(server, "r.md", kind="file") as ada:
        await call(agent, "get_document", path="r.md")
        await ada.wait_for(lambda: "first" in str(ada.text))
        await asyncio.sleep(1.5)  # a later modification time than the room saw
        path.write_text("written behind the room\n")  # an editor outside Jupyter
        message = await heard.wait_for("document_reloaded")
    assert message["level"] == "warning" and message["path"] == "r.md" and "reloaded" in message["message"]


async def test_a_failed_save_is_an_error(server):
    (server.root / "d.nosave.md").write_text("")
    heard = Heard()
    async with connect(server, logging_callback=heard) as agent:
        await agent.set_logging_level("error")
        await call(agent, "update_document", path="d.nosave.md", content="new text\n")
        message = await heard.wait_for("save_failed")
    assert message["level"] == "error" and message["path"] == "d.nosave.md"
    assert "No space left" in message["message"]
