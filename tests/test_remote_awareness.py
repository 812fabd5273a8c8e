"""Others' presence in remote mode: who joined before the agent, who joined after, who left, and the agent's
own state kept alive for them (``collab-mcp connect`` over stdio, a server without collab-mcp)."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from collab_mcp_core.testing import call, connect_stdio, join_room


@pytest.fixture(scope="module")
def plain_server(collab_server_factory):
    return collab_server_factory(collab_mcp=False)


def person(name: str) -> dict:
    return {"user": {"username": name, "name": name.title(), "display_name": name.title()}, "cursors": []}


def agents_seen_by(collaborator) -> dict[int, dict]:
    return {c: s for c, s in collaborator.others().items() if "agent" in s}


async def online(mcp) -> set[str]:
    return {u["user_id"] for u in (await call(mcp, "get_online_users"))["users"] if not u["is_agent"]}


async def until(condition, what: str, timeout: float = 20.0):
    """Poll ``condition()`` (plain or async) until it is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        value = await value if inspect.isawaitable(value) else value
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, f"never saw {what}"
        await asyncio.sleep(0.1)


async def test_people_before_after_and_leaving(plain_server):
    (plain_server.root / "seen.txt").write_text("hello\n")
    async with join_room(plain_server, "seen.txt", kind="file") as ada:
        await ada.set_awareness(person("ada"))  # ada was here first
        async with connect_stdio(plain_server, "--mode", "remote") as mcp:
            await call(mcp, "get_document", path="seen.txt")  # the agent joins the room
            agent_id, _ = await until(lambda: next(iter(agents_seen_by(ada).items()), None), "the agent, from ada")
            async with join_room(plain_server, "seen.txt", kind="file") as bob:
                # Bob joins after the agent: each sees the other at once (the agent re-publishes for newcomers).
                await bob.set_awareness(person("bob"))
                await until(lambda: agents_seen_by(bob), "the agent, from bob")
                await until(lambda: has(mcp, "bob"), "bob, from the agent")
                # Ada renews her state as JupyterLab does every 15 s: the agent sees her from then on.
                await ada.set_awareness(person("ada"))
                await until(lambda: has(mcp, "ada"), "ada, from the agent")
                await bob.set_awareness(None)  # bob closes the tab: JupyterLab sends a null state
                await until(lambda: lacks(mcp, "bob"), "bob gone, from the agent", timeout=10)
                assert "ada" in await online(mcp)
            # The agent's own state is renewed while it does nothing, so ada (whose client drops states
            # not renewed within 30 s) keeps it.
            clock = ada.awareness.meta[agent_id]["clock"]
            await until(lambda: ada.awareness.meta[agent_id]["clock"] > clock, "the agent's renewal")
            assert agent_id in agents_seen_by(ada)


async def has(mcp, name: str) -> bool:
    return name in await online(mcp)


async def lacks(mcp, name: str) -> bool:
    return name not in await online(mcp)
