"""Outside tools against a local collab-mcp: the MCP fuzzer and the official conformance suite.

    uv run python bench/security_scan.py [--runs N] [--skip-fuzzer] [--skip-conformance]

1. ``mcp-fuzzer`` (PyPI, run with ``uvx`` so its dependencies stay out of the
   project) fuzzes every tool (realistic and aggressive arguments) and the
   protocol messages of a server that accepts JWTs. It calls as a JWT identity
   with the scopes ``read write``: tools that run code are listed but refused
   by policy, so random payloads never reach a kernel. After the run the script
   checks that the server still answers, that a file outside the root is
   untouched, and that the token is in no log line the server wrote while
   serving.
2. The conformance suite (``npx @modelcontextprotocol/conformance``) against a
   server without authentication (an empty token, XSRF off,
   ``c.JupyterAuth.allow_anonymous = True``), as the suite expects; tools that
   run code are disabled there. The suite's fixture tools and ``test://``
   resources come from ``plugins/auth/tests/conformance_pack.py``, so its
   scenarios exercise the host (extra content, progress, errors, templates,
   subscriptions) rather than fail on missing names.

Prints a summary and writes the reports to ``bench/results/security_scan/``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from collab_mcp_core.testing import CollabServer, start_server

FUZZER = "mcp-fuzzer==0.7.0"
CONFORMANCE = "@modelcontextprotocol/conformance@0.1.12"
ISSUER = "https://idp.security-scan.invalid"
RESULTS = Path(__file__).parent / "results" / "security_scan"
FIXTURES = Path(__file__).parent.parent / "plugins" / "auth" / "tests"  # conformance_pack.py
EXECUTION_TOOLS = ("execute_code", "execute_notebook_cell", "restart_kernel", "interrupt_kernel")


def seed_root(root: Path) -> None:
    (root / "notes.txt").write_text("alpha beta\ngamma\n")
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "readme.md").write_text("# Title\n\nSome text.\n")
    notebook = {
        "cells": [
            {"cell_type": "code", "id": "c1", "metadata": {}, "source": "1 + 1", "outputs": [], "execution_count": None}
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / "analysis.ipynb").write_text(json.dumps(notebook))


def alive(server: CollabServer) -> bool:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(server.url + "api/status", headers=server.headers), timeout=5
        ) as answer:
            return answer.status == 200
    except OSError:
        return False


def require_mcp(server: CollabServer) -> None:
    """Stop here unless the MCP endpoint answers (a pack that fails to import unloads the whole extension)."""
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "scan", "version": "1"},
            },
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if server.token:
        headers.update(server.headers)
    try:
        with urllib.request.urlopen(urllib.request.Request(server.mcp_url, data=body, headers=headers), timeout=10):
            return
    except OSError as err:
        server.stop()
        problems = [line for line in server.log_text().splitlines() if "failed loading" in line]
        sys.exit(f"the MCP endpoint does not answer ({err}); {problems or 'see the server log'}")


def serving_log(server: CollabServer) -> str:
    """The server log minus the CLI's start-up banner (which shows the Jupyter token on purpose)."""
    before, marker, after = server.log_text().partition("collab-mcp is serving")
    return before + (after[after.index("\n}\n") + 3 :] if marker else "")


def run_fuzzer(base: Path, runs: int, out: Path) -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = base / "public.pem"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    config = (
        "c.JWTAuth.enabled = True\n"
        f"c.JWTAuth.issuer = {ISSUER!r}\n"
        f"c.JWTAuth.public_key_file = {str(public)!r}\n"
        "c.Limits.rate_per_second = 1000.0\n"  # the fuzzer is one fast identity; limits are tested elsewhere
        "c.Limits.burst = 1000\n"
    )
    server = start_server(base / "fuzz", config_py=config)
    require_mcp(server)
    sentinel = base / "fuzz" / "outside.txt"
    sentinel.write_text("must not change\n")
    seed_root(server.root)
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": ISSUER,
            "sub": "mcp-fuzzer",
            "aud": server.mcp_url,
            "iat": now,
            "exp": now + 3600,
            "scope": "read write",
        },
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        algorithm="RS256",
    )
    env = {**os.environ, "MCP_API_KEY": token, "MCP_PREFIX": "Bearer", "HOME": str(base / "fuzzer-home")}
    summary: dict = {"runs_per_tool": runs}
    try:
        for mode, extra in (
            ("tools", ["--phase", "both", "--runs", str(runs), "--security-audit"]),
            ("protocol", ["--protocol-phase", "aggressive", "--runs-per-type", str(max(2, runs // 2))]),
        ):
            cmd = [
                "uvx",
                "--from",
                FUZZER,
                "mcp-fuzzer",
                "--mode",
                mode,
                "--protocol",
                "http",
                "--endpoint",
                server.mcp_url,
                "--auth-env",
                "--fs-root",
                str(base / "fuzz-sandbox"),
                "--output-dir",
                str(out / f"fuzzer-{mode}"),
                "--export-markdown",
                str(out / f"fuzzer-{mode}.md"),
                "--timeout",
                "30",
                "--tool-timeout",
                "30",
                "--seed",
                "42",
                "--no-corpus",
                *extra,
            ]
            started = time.monotonic()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
            (out / f"fuzzer-{mode}.log").write_text(done.stdout + "\n--- stderr ---\n" + done.stderr)
            summary[mode] = {"exit_code": done.returncode, "seconds": round(time.monotonic() - started, 1)}
            summary[mode]["server_alive_after"] = alive(server)
            summary[mode].update(fuzzer_outcomes(out / f"fuzzer-{mode}" / "run_summary.json"))
        log = serving_log(server)
        summary["tracebacks_in_server_log"] = len(re.findall(r"^Traceback", log, re.M))
        summary["unexpected_tool_failures"] = log.count("failed unexpectedly") + log.count("ERROR collab_mcp")
        summary["token_in_server_log"] = token in log or server.token in log
        summary["outside_file_untouched"] = sentinel.read_text() == "must not change\n"
        summary["files_created_outside_root"] = sorted(
            str(p.relative_to(base / "fuzz"))
            for p in (base / "fuzz").iterdir()
            if p.name not in {"root", "home", "server.log", "outside.txt"}
        )
        (out / "fuzz-server.log").write_text(log)
    finally:
        server.stop()
    return summary


def fuzzer_outcomes(path: Path) -> dict:
    """Findings by category and outcome totals from the fuzzer's run summary."""
    if not path.exists():
        return {"run_summary": "missing"}
    data = json.loads(path.read_text())
    totals: dict[str, int] = {}
    for section in ("tools", "protocols"):
        for entry in (data.get(section) or {}).get("by_name", {}).values():
            for outcome, count in entry.get("outcomes", {}).items():
                totals[outcome] = totals.get(outcome, 0) + count
    return {"findings": data.get("findings", {}).get("by_category", {}), "outcomes": totals}


def run_conformance(base: Path, out: Path) -> dict:
    server = start_server(
        base / "conformance",
        "--ServerApp.disable_check_xsrf=True",
        # One option per name: "a,b" would be one (unknown) tool name, and the server refuses to start.
        *(f"--CollabMCP.denied_tools={name}" for name in EXECUTION_TOOLS),
        "--CollabMCP.extra_packs=conformance_pack",
        token="",
        env={"PYTHONPATH": os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")])},
        config_py="c.JupyterAuth.allow_anonymous = True\n",
    )
    require_mcp(server)
    seed_root(server.root)
    try:
        checks = out / "conformance"
        shutil.rmtree(checks, ignore_errors=True)
        cmd = ["npx", "-y", CONFORMANCE, "server", "--url", server.mcp_url, "-o", str(checks)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
        text = done.stdout + "\n--- stderr ---\n" + done.stderr
        (out / "conformance.log").write_text(text)
        return {
            "exit_code": done.returncode,
            "server_alive_after": alive(server),
            **parse_conformance(text),
            "why_failed": failure_reasons(checks),
        }
    finally:
        server.stop()


def parse_conformance(text: str) -> dict:
    """Passed and failed scenario names from the suite's pretty output."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    passed = sorted(set(re.findall(r"^\s*✓\s+([\w-]+):", plain, re.M)))
    failed = sorted(set(re.findall(r"^\s*✗\s+([\w-]+):", plain, re.M)))
    totals = re.findall(r"(\d+)\s+passed.*?(\d+)\s+failed", plain)
    return {"passed": passed, "failed": failed, "totals_line": totals[-1] if totals else None}


def failure_reasons(checks: Path) -> dict[str, str]:
    """The first error message of each failed check, from the suite's checks.json files."""
    reasons = {}
    for path in sorted(checks.glob("*/checks.json")):
        for check in json.loads(path.read_text()):
            if check.get("status") == "FAILURE":
                reasons.setdefault(check["id"], (check.get("errorMessage") or "")[:160])
    return reasons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fuzzer runs per tool and phase")
    parser.add_argument("--skip-fuzzer", action="store_true")
    parser.add_argument("--skip-conformance", action="store_true")
    args = parser.parse_args()
    for tool in ("uvx", "npx"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed on PATH")
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if not args.skip_fuzzer:
            summary["fuzzer"] = run_fuzzer(base, args.runs, RESULTS)
        if not args.skip_conformance:
            summary["conformance"] = run_conformance(base, RESULTS)
    # Only the summary is meant for the repository; the raw reports stay local.
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
