"""In a real JupyterLab page: agents' cells, runs and presence appear live.

JupyterLab and jupyter-collaboration come from PyPI, the browser is Debian's chromium driven by
Playwright (never a downloaded browser). Screenshots are saved as test artifacts, in
$COLLAB_MCP_ARTIFACTS (default /tmp/collab-mcp-artifacts): awareness-browser.png,
presence-running-cell.png ([*] while an agent's cell runs), presence-two-agents.png (two sessions,
two collaborators) and presence-after-close.png (one session closed); *-failure.png on a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from collab_mcp_core.testing import call, connect

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")

# Quiet on a closed network; Playwright adds --headless and a fresh profile itself.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
LOAD_TIMEOUT_MS = 120_000  # JupyterLab's first load on two busy cores
LIVE_TIMEOUT_MS = 10_000  # a live change, once the page is up


def artifacts() -> Path:
    folder = Path(os.environ.get("COLLAB_MCP_ARTIFACTS", "/tmp/collab-mcp-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.asynccontextmanager
async def jupyterlab_page(server, notebook: str, first_cell: str, failure_shot: str) -> AsyncIterator[Any]:
    """A JupyterLab page with ``notebook`` open (its kernel dialog answered), in Debian's chromium."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("chromium is installed but Playwright is not: pip install playwright jupyterlab jupyter-collaboration")
    request = urllib.request.Request(server.url + "lab", headers=server.headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
    except urllib.error.HTTPError as err:
        pytest.fail(f"the server does not serve JupyterLab ({err}): pip install jupyterlab jupyter-collaboration")
    (server.root / notebook).write_text(
        nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(first_cell)]))
    )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            # A fresh workspace (reset): earlier tests' tabs would reopen, each asking for a kernel.
            await page.goto(f"{server.url}lab/tree/{notebook}?reset&token={server.token}")
            await page.locator(".jp-Notebook .jp-Cell", has_text=first_cell).wait_for(timeout=LOAD_TIMEOUT_MS)
            # JupyterLab asks for a kernel a little after the notebook shows; its modal dialog would
            # block the page. Answer it (the agent's runs start the notebook's kernel themselves).
            dialog = page.locator(".jp-Dialog")
            await dialog.wait_for(timeout=LOAD_TIMEOUT_MS)
            await dialog.get_by_role("button", name="No Kernel").click()
            await dialog.wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
            yield page
        except BaseException:
            await page.screenshot(path=str(artifacts() / failure_shot))
            raise
        finally:
            await browser.close()


async def test_agent_cell_and_presence_appear_in_jupyterlab_without_reload(collab_server):
    async with jupyterlab_page(collab_server, "live.ipynb", "print('hello')", "awareness-browser-failure.png") as page:
        async with connect(collab_server) as mcp:
            sessions = await call(mcp, "get_active_sessions", path="live.ipynb")
            session = sessions["sessions"][0]
            assert any(not p["is_agent"] for p in session["participants"])  # the page is in the session
            await call(mcp, "join_session", session_id=session["session_id"])
            me = await call(mcp, "set_user_presence", status="busy", message="adding a cell")
            inserted = await call(mcp, "insert_notebook_cell", path="live.ipynb", content="agent_was_here = 'é😀'")

            # The cell appears on the open page, without reload.
            await page.locator(".jp-Cell", has_text="agent_was_here").wait_for(timeout=LIVE_TIMEOUT_MS)
            # The agent's cursor flag is drawn in that cell, with its name.
            flag = page.locator(".jp-remote-userFlag", has_text=me["display_name"])
            await flag.first.wait_for(state="attached", timeout=LIVE_TIMEOUT_MS)
            cursors = await call(mcp, "get_user_cursors", path="live.ipynb")
            mine = [c for c in cursors["cursors"] if c["is_agent"]]
            assert mine and mine[0]["cell_id"] == inserted["cell_id"]
            # The agent is in the page's collaborator list, with its name and colour.
            await page.locator('[data-id="jp-collaboration-panel"]').first.click()
            listed = page.locator(".jp-CollaboratorsList .jp-Collaborator", has_text=me["display_name"])
            await listed.first.wait_for(timeout=LIVE_TIMEOUT_MS)
            icon = listed.first.locator(".jp-CollaboratorIcon")
            assert await icon.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
            shot = artifacts() / "awareness-browser.png"
            await page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000

            # A person types accents and an emoji in the first cell and steps back one character:
            # JupyterLab's own relative position (UTF-16 based) must come back as characters.
            first_cell = (await call(mcp, "get_notebook", path="live.ipynb"))["cells"][0]["cell_id"]
            editor = page.locator(".jp-Cell", has_text="print('hello')").locator(".cm-content")
            await editor.click()
            await page.keyboard.press("End")
            await page.keyboard.type(" # é😀x")
            await page.keyboard.press("ArrowLeft")
            expected = (first_cell, 0, len("print('hello') # é😀x") - 1)

            async def human_cursor():
                found = await call(mcp, "get_user_cursors", path="live.ipynb")
                humans = [c for c in found["cursors"] if not c["is_agent"] and c["resolved"]]
                return [(c["cell_id"], c["line"], c["column"]) for c in humans]

            for _ in range(100):
                if expected in await human_cursor():
                    break
                await page.wait_for_timeout(100)
            assert expected in await human_cursor()

            # Leaving removes the agent from the page at once (no 30-second ghost).
            await call(mcp, "leave_session", session_id=session["session_id"])
            await listed.first.wait_for(state="detached", timeout=5_000)
            await flag.first.wait_for(state="detached", timeout=5_000)


async def test_agents_are_collaborators_by_default_and_a_running_cell_shows_a_star(collab_server):
    """Sessions that only insert and run cells show in JupyterLab's collaborator list under their
    client's names and own colours; the running cell's prompt is [*], then [n]; a closed session leaves."""
    from mcp.types import Implementation

    claude = Implementation(name="claude-code", title="Claude Code", version="2.0")
    vscode = Implementation(name="Visual Studio Code", version="1.107")
    async with jupyterlab_page(collab_server, "agents.ipynb", "print('start')", "presence-browser-failure.png") as page:
        await page.locator('[data-id="jp-collaboration-panel"]').first.click()
        collaborators = page.locator(".jp-CollaboratorsList .jp-Collaborator")
        async with connect(collab_server, client_info=claude) as one:
            slow = await call(one, "insert_notebook_cell", path="agents.ipynb",
                              content="import time\ntime.sleep(2)\nprint('slept')")
            claude_listed = collaborators.filter(has_text="Claude Code")
            await claude_listed.first.wait_for(timeout=LIVE_TIMEOUT_MS)

            # The cell runs for 2 s: [*] while it runs, its execution count after.
            cell = page.locator(".jp-CodeCell", has_text="time.sleep(2)")
            prompt = cell.locator(".jp-InputPrompt")
            running = asyncio.create_task(
                call(one, "execute_notebook_cell", path="agents.ipynb", cell_id=slow["cell_id"], timeout=60)
            )
            await prompt.filter(has_text="[*]").wait_for(timeout=LIVE_TIMEOUT_MS)
            await page.screenshot(path=str(artifacts() / "presence-running-cell.png"))
            assert not running.done()  # [*] was shown while the run was still going
            result = await running
            assert result["status"] == "ok" and result["execution_count"] >= 1
            await prompt.filter(has_text=f"[{result['execution_count']}]").wait_for(timeout=LIVE_TIMEOUT_MS)
            await cell.locator(".jp-OutputArea", has_text="slept").wait_for(timeout=LIVE_TIMEOUT_MS)

            async with connect(collab_server, client_info=vscode) as two:
                await call(two, "insert_notebook_cell", path="agents.ipynb", content="# a note from VS Code",
                           cell_type="markdown")
                vscode_listed = collaborators.filter(has_text="Visual Studio Code")
                await vscode_listed.first.wait_for(timeout=LIVE_TIMEOUT_MS)
                colours = [
                    await listed.first.locator(".jp-CollaboratorIcon").evaluate("e => getComputedStyle(e).backgroundColor")
                    for listed in (claude_listed, vscode_listed)
                ]
                assert colours[0] != colours[1] and "rgba(0, 0, 0, 0)" not in colours
                await page.screenshot(path=str(artifacts() / "presence-two-agents.png"))
            # Leaving the block closed the session (DELETE): that agent is gone within a second.
            await vscode_listed.first.wait_for(state="detached", timeout=1_000)
            await claude_listed.first.wait_for(timeout=LIVE_TIMEOUT_MS)  # the other one stays
            await page.screenshot(path=str(artifacts() / "presence-after-close.png"))
