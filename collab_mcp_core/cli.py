"""The ``collab-mcp`` command: ``serve`` a Jupyter server with collab-mcp, list ``packs``."""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import shutil
import socket
import sys
from importlib import resources
from pathlib import Path
from typing import Any

EXTENSIONS = {"jupyter_server_ydoc": True, "jupyter_server_fileid": True, "collab_mcp_core": True}


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except BrokenPipeError:
        # The reader left (`collab-mcp packs --json | head`): not an error worth a traceback.
        # Point stdout at nothing so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run(argv: list[str] | None = None) -> int:
    from .version import __version__

    parser = argparse.ArgumentParser(prog="collab-mcp", description="AI agents as collaborators in Jupyter, over MCP.")
    parser.add_argument("--version", action="version", version=f"collab-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start a Jupyter server with collab-mcp in the foreground")
    serve.add_argument("--root-dir", help="folder to serve (default: a demo folder with a sample notebook)")
    serve.add_argument("--port", type=int, default=0, help="port (default: 8888, or the next free one)")
    serve.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--token", help="the Jupyter token, also the MCP bearer token (default: a random one)")
    connect = sub.add_parser(
        "connect", help="serve MCP over stdio (or HTTP) for a Jupyter server running elsewhere"
    )
    connect.add_argument("url", help="the Jupyter server's URL, with its base path (https://hub.example.org/user/NAME/)")
    connect.add_argument("--token", help="the server's token (default: $JUPYTER_TOKEN); never printed")
    connect.add_argument("--mode", choices=("auto", "bridge", "remote"), default="auto",
                         help="bridge: relay to the server's collab-mcp; remote: run the packs here "
                         "(default: bridge when the server has collab-mcp)")
    connect.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    connect.add_argument("--port", type=int, default=0, help="with --transport http: port (default: a free one)")
    connect.add_argument("--ip", default="127.0.0.1", help="with --transport http: address (default: 127.0.0.1)")
    connect.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    packs = sub.add_parser("packs", help="list installed packs, their tools and whether they are enabled")
    packs.add_argument("--json", action="store_true", help="print JSON")
    args, passthrough = parser.parse_known_args(argv)
    if args.command == "connect":
        bad = [a for a in passthrough if not a.startswith("--CollabMCP.") and not a.startswith("--") or "=" not in a]
        if bad:
            parser.error(f"unrecognized arguments: {' '.join(bad)} (settings look like --CollabMCP.x=y)")
        return connect_command(args, passthrough)
    bad = [a for a in passthrough if not a.startswith("--") or "=" not in a]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)} (server options look like --ServerApp.x=y)")
    if args.command == "serve":
        return serve_command(args, passthrough)
    return packs_command(args, passthrough)


# -- serve ---------------------------------------------------------------------------------


def demo_folder() -> Path:
    """A writable folder with a sample notebook and a text file (kept between runs)."""
    from jupyter_core.paths import jupyter_data_dir

    folder = Path(jupyter_data_dir()) / "collab_mcp_demo"
    folder.mkdir(parents=True, exist_ok=True)
    for item in resources.files("collab_mcp_core.demo").iterdir():
        if item.name.endswith((".ipynb", ".md", ".py", ".txt")) and not (folder / item.name).exists():
            with resources.as_file(item) as src:
                shutil.copy(src, folder / item.name)
    return folder


def free_port(ip: str, start: int = 8888) -> int:
    for port in range(start, start + 50):
        with socket.socket() as s:
            try:
                s.bind((ip, port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def client_config(url: str, token: str) -> dict[str, Any]:
    return {
        "mcpServers": {
            "jupyter": {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {token}"}}
        }
    }


def serve_command(args: argparse.Namespace, passthrough: list[str]) -> int:
    from jupyter_server.serverapp import ServerApp
    from traitlets.config import Config

    root = Path(args.root_dir).resolve() if args.root_dir else demo_folder()
    if not root.is_dir():
        print(f"collab-mcp: --root-dir {root} is not a folder", file=sys.stderr)
        return 2
    token = args.token if args.token is not None else secrets.token_urlsafe(24)
    # A token the user chose is never echoed (stdout often ends up in logs);
    # a generated one must be shown, or nobody could connect.
    shown = "<the token given with --token>" if args.token is not None else token
    port = args.port or free_port(args.ip)
    config = Config()
    config.ServerApp.jpserver_extensions = EXTENSIONS
    config.ServerApp.open_browser = False
    config.ServerApp.allow_root = os.name == "posix" and os.geteuid() == 0  # containers run as root
    config.IdentityProvider.token = token
    app = ServerApp(config=config)
    app.initialize(
        argv=[f"--ServerApp.root_dir={root}", f"--ServerApp.port={port}", f"--ServerApp.ip={args.ip}", *passthrough]
    )
    if "collab_mcp" not in app.web_app.settings:
        print("collab-mcp: the extension failed to load; the server log above says why", file=sys.stderr)
        return 1

    def banner() -> None:
        host = f"[{app.ip}]" if ":" in app.ip else app.ip
        url = f"http://{host}:{app.port}{app.base_url}mcp"
        print(
            "\ncollab-mcp is serving\n"
            f"  folder:  {root}\n"
            f"  MCP URL: {url}\n"
            f"  token:   {shown}\n"
            f"  JupyterLab (if installed): http://{host}:{app.port}{app.base_url}lab?token={shown}\n"
            "  MCP client configuration (Streamable HTTP):\n"
            + json.dumps(client_config(url, shown), indent=2)
            + "\n",
            flush=True,
        )

    def settle() -> None:
        # The server's start-up objects live for its whole life: freezing them
        # keeps full GC passes (pauses of ~70 ms on this heap) off the hot path.
        gc.collect()
        gc.freeze()

    app.io_loop.add_callback(banner)
    app.io_loop.call_later(2, settle)
    app.start()
    return 0


# -- connect -------------------------------------------------------------------------------


def connect_command(args: argparse.Namespace, passthrough: list[str]) -> int:
    """Probe the server, then relay (bridge) or run the packs here (remote); 2 when it cannot start."""
    import logging

    import anyio

    from .connect import ConnectError, Target, parse_url, probe

    # stdout carries the MCP protocol: everything else goes to stderr, and
    # nothing logs a request's headers (where the token is).
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="collab-mcp connect: %(message)s")
    token = args.token if args.token is not None else os.environ.get("JUPYTER_TOKEN")
    if args.insecure:
        print("collab-mcp connect: warning: --insecure: the server's TLS certificate is not checked, so "
              "anyone on the way can read the token and the traffic", file=sys.stderr)
    try:
        target = Target(parse_url(args.url), token or None, verify=not args.insecure)
        mode = anyio.run(probe, target, args.mode)
        if args.transport == "http" and mode == "bridge":
            raise ConnectError(f"the server already serves MCP over HTTP: point the client at {target.mcp_url} "
                               "(with the server's token as a Bearer header), or use --transport stdio")
    except ConnectError as err:
        print(f"collab-mcp connect: {err}", file=sys.stderr)
        return 2
    from .bridge import run_stdio_bridge
    from .remote_mode import run_http_remote, run_stdio_remote

    try:
        if mode == "bridge":
            print(f"collab-mcp connect: bridge to {target.mcp_url}, over stdio", file=sys.stderr)
            anyio.run(run_stdio_bridge, target)
        elif args.transport == "http":
            port, token = args.port or free_port(args.ip), secrets.token_urlsafe(24)
            url = f"http://{args.ip}:{port}/mcp"

            def banner() -> None:
                print(f"collab-mcp connect: remote mode on {target.url}, serving MCP at {url}\n  token: {token}\n"
                      "  (the only credential accepted here: no JWT, so JWT scopes do not apply in remote mode)\n"
                      + json.dumps(client_config(url, token), indent=2), flush=True)

            anyio.run(run_http_remote, target, passthrough, args.ip, port, token, banner)
        else:
            print(f"collab-mcp connect: remote mode on {target.url}, over stdio", file=sys.stderr)
            anyio.run(run_stdio_remote, target, passthrough)
    except ConnectError as err:
        print(f"collab-mcp connect: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


# -- packs ---------------------------------------------------------------------------------


def packs_command(args: argparse.Namespace, passthrough: list[str]) -> int:
    from .app import read_settings
    from .packs import HOST_PLUGIN, PackManager
    from .registry import ToolRegistry, listing_size
    from .remote_backend import UNAVAILABLE_TOOLS, UNUSED_HOOKS

    settings = read_settings(passthrough)
    manager = PackManager(enabled=settings.enabled_packs, disabled=settings.disabled_packs)
    manager.load_entry_points()
    registry = ToolRegistry()
    manager.collect_tools(registry)
    problems = manager.misnamed(settings.allowed_tools, settings.denied_tools)
    registry.keep_only(settings.allowed_tools or None, settings.denied_tools)
    listed = {name: listing_size([tool]) for name, tool in registry.tools.items()}
    total = sum(listed.values()) or 1
    rows = []
    for info in sorted(manager.installed.values(), key=lambda i: i.name):
        if info.name == HOST_PLUGIN:
            continue
        tools = sorted(t.name for t in registry.tools.values() if t.pack == info.name)
        size = sum(listed[name] for name in tools)
        rows.append({**info.__dict__, "tools": tools, "tools_list_chars": size, "tools_list_share": round(size / total, 3),
                     "not_in_remote_mode": {t: UNAVAILABLE_TOOLS[t] for t in tools if t in UNAVAILABLE_TOOLS},
                     "hooks_unused_in_remote_mode": {h: UNUSED_HOOKS[h] for h in info.hooks if h in UNUSED_HOOKS}})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            state = "enabled" if row["enabled"] else "disabled"
            print(f"{row['name']} ({row['distribution']} {row['version']}), {state}, from {row['module']}")
            if row["enabled"]:
                print(f"  hooks: {', '.join(row['hooks']) or '-'}")
                print(f"  tools: {', '.join(row['tools']) or '-'}")
                if row["tools"]:
                    print(f"  tools/list: {row['tools_list_chars']:,} characters ({row['tools_list_share']:.0%} of {total:,})")
                if row["not_in_remote_mode"]:  # the reasons are in --json
                    print(f"  not in remote mode: {', '.join(row['not_in_remote_mode'])}")
                for hook, reason in row["hooks_unused_in_remote_mode"].items():
                    print(f"  not in remote mode: hook {hook} ({reason})")
    for problem in problems:  # the server would refuse to start with these settings
        print(f"collab-mcp: configuration error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
