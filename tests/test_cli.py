"""The collab-mcp command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from collab_mcp_core import __version__
from collab_mcp_core.testing import call, connect, free_port, isolated_env


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
    # Each pack's share of tools/list: what its tools cost every conversation.
    assert packs["notebook"]["tools_list_chars"] > 0 and packs["auth"]["tools_list_chars"] == 0
    shares = sum(p["tools_list_share"] for p in packs.values())
    assert 0.99 <= shares <= 1.01, shares


def test_packs_text_listing_shows_tools():
    out = run_cli("packs")
    assert out.returncode == 0, out.stderr
    assert "hello (collab-mcp-example-pack 0.1.0), enabled" in out.stdout
    assert "tools: last_tagged, tag_cells, word_count" in out.stdout
    assert "tools/list: " in out.stdout and "characters (" in out.stdout


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"collab-mcp {__version__}"


def test_a_closed_pipe_ends_quietly():
    process = subprocess.Popen(
        [sys.executable, "-m", "collab_mcp_core.cli", "packs", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # the reader is gone before anything is written, as `| head` after its lines
    stderr = process.stderr.read().decode()
    assert process.wait(60) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


TYPOS = ("--CollabMCP.denied_tools=execute_cod", "--CollabMCP.disabled_packs=awarness")


def test_packs_reports_misspelt_settings():
    out = run_cli("packs", *TYPOS)
    assert out.returncode == 1
    assert "CollabMCP.denied_tools: no enabled pack offers a tool named 'execute_cod'." in out.stderr
    assert "CollabMCP.disabled_packs: no installed pack is named 'awarness'." in out.stderr
    assert "execute_code" in out.stderr and "awareness" in out.stderr  # the valid names are listed
    assert "notebook (collab-mcp-notebook" in out.stdout  # the listing is still printed


def test_misspelt_settings_stop_the_server_listing_the_valid_names(tmp_path):
    for typo, expected, valid in (
        (TYPOS[0], "CollabMCP.denied_tools: no enabled pack offers a tool named 'execute_cod'.", "execute_code"),
        (TYPOS[1], "CollabMCP.disabled_packs: no installed pack is named 'awarness'.", "awareness"),
        ("--CollabMCP.enabled_packs=notebok", "CollabMCP.enabled_packs: no installed pack is named 'notebok'.", "notebook"),
        ("--CollabMCP.allowed_tools=get_notebok", "no enabled pack offers a tool named 'get_notebok'.", "get_notebook"),
    ):
        root = tmp_path / typo.split("=")[1]
        root.mkdir()
        out = subprocess.run(
            [sys.executable, "-m", "collab_mcp_core.cli", "serve", f"--root-dir={root}", f"--port={free_port()}", typo],
            capture_output=True, text=True, timeout=120, env=isolated_env(tmp_path / "home"),
        )
        assert out.returncode == 1, out.stdout + out.stderr
        log = out.stdout + out.stderr
        line = next(line for line in log.splitlines() if expected in line)
        assert "collab-mcp cannot start" in line and valid in line, line
        assert "collab-mcp is serving" not in log


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


def test_start_up_logs_no_warning(collab_server_factory):
    server = collab_server_factory()
    log = server.log_text()
    assert "collab-mcp is serving" in log
    warnings = [line for line in log.splitlines() if "Warning" in line or line.startswith("[W ")]
    assert not warnings, "\n".join(warnings)  # e.g. JupyterEventsVersionWarning from our event schemas


def test_packs_names_the_tools_remote_mode_does_not_offer():
    text = subprocess.run([sys.executable, "-m", "collab_mcp_core.cli", "packs"], capture_output=True, text=True, check=True).stdout
    assert "  not in remote mode: discard_document_fork, fork_document, get_document_history" in text
    rows = json.loads(subprocess.run([sys.executable, "-m", "collab_mcp_core.cli", "packs", "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    document = next(r for r in rows if r["name"] == "document")
    assert "update store" in document["not_in_remote_mode"]["get_document_history"]
    notebook = next(r for r in rows if r["name"] == "notebook")
    assert notebook["not_in_remote_mode"] == {} and notebook["hooks_unused_in_remote_mode"] == {}
    # Remote mode calls no identify_request: JWT identities and their scopes do not apply there, and packs says so.
    auth = next(r for r in rows if r["name"] == "auth")
    assert "JWT scopes do not apply" in auth["hooks_unused_in_remote_mode"]["identify_request"]
    assert "  not in remote mode: hook identify_request (remote mode has one caller" in text
