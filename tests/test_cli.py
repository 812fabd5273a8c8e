"""The collab-mcp command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from collab_mcp_core.testing import call, connect, free_port


def run_cli(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "collab_mcp_core.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_packs_lists_installed_packs_as_json():
    out = run_cli("packs", "--json", "--CollabMCP.disabled_packs=hello")
    assert out.returncode == 0, out.stderr
    packs = {p["name"]: p for p in json.loads(out.stdout)}
    assert {"auth", "hello"} <= set(packs)
    assert packs["hello"]["enabled"] is False
    assert packs["hello"]["distribution"] == "collab-mcp-example-pack"
    assert packs["auth"]["enabled"] is True and "identify_request" in packs["auth"]["hooks"]


def test_packs_text_listing_shows_tools():
    out = run_cli("packs")
    assert out.returncode == 0, out.stderr
    assert "hello (collab-mcp-example-pack 0.1.0), enabled" in out.stdout
    assert "tools: word_count" in out.stdout


async def test_serve_starts_prints_a_working_url_and_config(tmp_path):
    (tmp_path / "data").mkdir()
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "PYTHONUNBUFFERED": "1"}
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "collab_mcp_core.cli", "serve", f"--port={port}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path,
    )
    try:
        started = time.monotonic()
        lines = []
        while not any(line.startswith("}") for line in lines):
            line = process.stdout.readline()
            assert line, f"serve exited early: {''.join(lines)}"
            lines.append(line)
        startup = time.monotonic() - started
        text = "".join(lines)
        url = next(line.split("MCP URL:")[1].strip() for line in lines if "MCP URL:" in line)
        token = next(line.split("token:")[1].strip() for line in lines if line.strip().startswith("token:"))
        config = json.loads(text[text.index("{"):])
        assert config["mcpServers"]["jupyter"] == {
            "type": "http", "url": url, "headers": {"Authorization": f"Bearer {token}"}
        }
        assert url == f"http://127.0.0.1:{port}/mcp"
        # the demo folder holds a sample notebook and a text file
        demo = tmp_path / "data" / "collab_mcp_demo"
        assert (demo / "analysis.ipynb").exists() and (demo / "notes.md").exists()

        class Server:  # what connect() needs
            mcp_url = url
            headers = {"Authorization": f"Bearer {token}"}

        async with connect(Server) as session:
            assert (await call(session, "word_count", path="notes.md"))["words"] > 10
        print(f"collab-mcp serve printed its URL after {startup:.1f}s")
        assert startup < 30  # the 10 s target is measured by bench/startup.py, not asserted here
    finally:
        process.terminate()
        process.wait(15)
