"""In a real JupyterLab page: an agent's cell appears live, and the agent shows as a collaborator.

JupyterLab and jupyter-collaboration come from PyPI, the browser is Debian's chromium driven by
Playwright (never a downloaded browser). A screenshot is saved as a test artifact, in
$COLLAB_MCP_ARTIFACTS (default /tmp/collab-mcp-artifacts).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

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


async def test_agent_cell_and_presence_appear_in_jupyterlab_without_reload(collab_server):
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("chromium is installed but Playwright is not: pip install playwright jupyterlab jupyter-collaboration")
    request = urllib.request.Request(collab_server.url + "lab", headers=collab_server.headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
    except urllib.error.HTTPError as err:
        pytest.fail(f"the server does not serve JupyterLab ({err}): pip install jupyterlab jupyter-collaboration")
    (collab_server.root / "live.ipynb").write_text(
        nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")]))
    )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            await page.goto(f"{collab_server.url}lab/tree/live.ipynb?token={collab_server.token}")
            await page.locator(".jp-Notebook .jp-Cell", has_text="print('hello')").wait_for(timeout=LOAD_TIMEOUT_MS)
            # JupyterLab asks for a kernel a little after the notebook shows; its modal dialog would
            # block the page. Answer it (the agent needs no kernel here).
            dialog = page.locator(".jp-Dialog")
            await dialog.wait_for(timeout=LOAD_TIMEOUT_MS)
            await dialog.get_by_role("button", name="No Kernel").click()
            await dialog.wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
            async with connect(collab_server) as mcp:
                sessions = await call(mcp, "get_active_sessions", document_path="live.ipynb")
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
                cursors = await call(mcp, "get_user_cursors", document_path="live.ipynb")
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
                    found = await call(mcp, "get_user_cursors", document_path="live.ipynb")
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
        except BaseException:
            await page.screenshot(path=str(artifacts() / "awareness-browser-failure.png"))
            raise
        finally:
            await browser.close()
