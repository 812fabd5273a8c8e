"""Who may do what: scopes, folders, path safety, limits and the audit trail, against a real server."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
import httpx2
from mcp.shared.exceptions import MCPError
from jwt_helpers import INITIALIZE, MCP_HEADERS, bearer, mint, pem_public, post_initialize

from collab_mcp_core.testing import call, call_error, connect

RATE, BURST = 5.0, 10
TOKENS: list[str] = []  # every credential used here: none may reach the log or the events


@pytest.fixture(scope="module")
def server(start_jwt_server, rsa_key, tmp_path_factory):
    key_file = tmp_path_factory.mktemp("keys") / "public.pem"
    key_file.write_bytes(pem_public(rsa_key))
    server = start_jwt_server(
        public_key_file=str(key_file),
        Limits__rate_per_second=RATE,
        Limits__burst=BURST,
        Limits__max_content_chars=1000,
        Limits__max_code_chars=100,
        Limits__max_concurrent_executions=1,
    )
    TOKENS.append(server.token)
    root = server.root
    (root / "notebooks").mkdir()
    (root / "notebooks2").mkdir()
    (root / "notebooks" / "a.txt").write_text("inside the folder\n")
    (root / "notebooks2" / "b.txt").write_text("a sibling folder\n")
    (root / "top.txt").write_text("top secret words\n")
    (root / "analysis.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (root / ".hidden.txt").write_text("hidden\n")
    (root / ".ipynb_checkpoints").mkdir()
    (root / ".ipynb_checkpoints" / "top-checkpoint.txt").write_text("checkpoint\n")
    if not (root / ".jupyter_ystore.db").exists():
        (root / ".jupyter_ystore.db").write_text("not a document\n")
    outside = root.parent / "outside.txt"
    outside.write_text("outside the root\n")
    os.symlink(outside, root / "escape.txt")
    os.symlink("../top.txt", root / "notebooks" / "up.txt")  # inside the root, outside the folder
    os.symlink("a.txt", root / "notebooks" / "same.txt")  # inside the folder
    return server


def request_log(log: str) -> str:
    """The server log without the CLI's start-up banner.

    ``collab-mcp serve`` prints the Jupyter token on purpose there (the client
    configuration to paste); everything the server logs while serving must not
    contain it. The banner is the block from "collab-mcp is serving" to the end of its JSON.
    """
    before, marker, after = log.partition("collab-mcp is serving")
    assert marker, "the start-up banner was not found; update request_log"
    banner_end = after.index("\n}\n") + 3
    return before + after[banner_end:]


def token_for(server, rsa_key, sub: str, scope: str) -> dict[str, str]:
    token = mint(rsa_key, server.mcp_url, sub=sub, scope=scope)
    TOKENS.append(token)
    return bearer(token)


async def test_read_only_identity_reads_but_cannot_write_or_execute(server, rsa_key):
    async with connect(server, headers=token_for(server, rsa_key, "reader", "read")) as session:
        assert (await call(session, "word_count", path="top.txt"))["words"] == 3
        denied = await call_error(session, "probe_write", path="top.txt", content="x")
        assert denied == (
            "Permission denied: tool 'probe_write' needs the 'write' permission on 'top.txt', "
            "which 'reader' does not have."
        )
        # Real tools of other packs: refused before they change anything.
        denied = await call_error(session, "insert_text", path="top.txt", content="defaced ", position=0)
        assert "'write' permission" in denied
        denied = await call_error(session, "execute_code", path="analysis.ipynb", code="import os")
        assert "'execute' permission" in denied
    assert (server.root / "top.txt").read_text() == "top secret words\n"


async def test_tools_list_offers_only_the_tools_a_token_could_call(server, rsa_key):
    async def listed(sub: str, scope: str) -> set[str]:
        async with connect(server, headers=token_for(server, rsa_key, sub, scope)) as session:
            return {t.name for t in (await session.list_tools()).tools}

    reader, folder_writer, admin = await listed("r", "read"), await listed("fw", "write:notebooks/"), await listed("a", "admin")
    assert {"get_notebook", "word_count", "probe_read"} <= reader
    assert not reader & {"insert_notebook_cell", "probe_write", "execute_code", "probe_execute"}
    assert {"insert_notebook_cell", "probe_write", "get_notebook"} <= folder_writer  # usable in its folder
    assert not folder_writer & {"execute_code", "probe_execute"}
    assert reader < folder_writer < admin and {"execute_code", "probe_execute"} <= admin
    assert await listed("nobody", "openid") == set()
    async with connect(server, headers=token_for(server, rsa_key, "r2", "read")) as session:
        with pytest.raises(MCPError) as unknown:
            await session.call_tool("no_such_tool", {})
    assert "probe_read" in unknown.value.error.message and "probe_write" not in unknown.value.error.message


async def test_admin_and_write_scopes(server, rsa_key):
    async with connect(server, headers=token_for(server, rsa_key, "admin-user", "admin")) as session:
        await call(session, "probe_write", path="top.txt")
        await call(session, "probe_execute", path="analysis.ipynb")
    async with connect(server, headers=token_for(server, rsa_key, "writer", "write")) as session:
        await call(session, "probe_read", path="top.txt")  # write includes read
        assert "'execute' permission" in await call_error(session, "probe_execute", path="analysis.ipynb")


async def test_unknown_scopes_grant_nothing(server, rsa_key):
    async with connect(server, headers=token_for(server, rsa_key, "nobody", "openid profile readwrite")) as session:
        assert "Permission denied" in await call_error(session, "probe_read", path="top.txt")


async def test_folder_scoped_identity_stays_in_its_folder(server, rsa_key):
    async with connect(server, headers=token_for(server, rsa_key, "folder-user", "write:notebooks/")) as session:
        assert (await call(session, "probe_write", path="notebooks/a.txt"))["path"] == "notebooks/a.txt"
        assert (await call(session, "word_count", path="notebooks/a.txt"))["words"] == 3
        assert (await call(session, "probe_write", path="./notebooks//a.txt"))["path"] == "notebooks/a.txt"
        for outside in ("top.txt", "notebooks2/b.txt", ""):
            error = await call_error(session, "word_count", path=outside)
            assert "Permission denied" in error and "'read' permission" in error, (outside, error)
        # Paths that climb, are absolute or lead out through a symlink are refused as paths,
        # before any permission is weighed.
        for climbing in (
            "escape.txt",
            "notebooks/../top.txt",
            "notebooks/%2e%2e/top.txt",
            "notebooks/%2E%2E/top.txt",
            "notebooks\\..\\top.txt",
            "/notebooks/../top.txt",
        ):
            error = await call_error(session, "word_count", path=climbing)
            assert "server root" in error or "is absolute" in error, (climbing, error)
        # No path at all means "everywhere": a folder-limited identity must name its folder.
        assert "Permission denied" in await call_error(session, "list_documents")
        assert "Permission denied" in await call_error(session, "probe_execute", path="notebooks/a.txt")


async def test_folder_scope_is_checked_on_the_file_a_symlink_names(server, rsa_key):
    async with connect(server, headers=token_for(server, rsa_key, "linker", "write:notebooks/")) as session:
        for tool, args in (
            ("get_document", {}),
            ("word_count", {}),
            ("update_document", {"content": "defaced\n"}),
            ("insert_text", {"content": "defaced ", "position": 0}),
            ("probe_write", {"content": "defaced"}),
        ):
            error = await call_error(session, tool, path="notebooks/up.txt", **args)
            assert error.startswith("Permission denied") and "symlink" in error, (tool, error)
            assert "top.txt" not in error  # the target stays unnamed
        with pytest.raises(Exception, match="Permission denied"):
            await session.read_resource("document://notebooks/up.txt")
        # A link that stays inside the folder is the file it names.
        assert (await call(session, "word_count", path="notebooks/same.txt"))["words"] == 3
    assert (server.root / "top.txt").read_text() == "top secret words\n"


async def test_folder_scope_applies_to_resources(server, rsa_key):
    async with connect(server, headers=token_for(server, rsa_key, "folder-reader", "read:notebooks")) as session:
        inside = await session.read_resource("document://notebooks/a.txt")
        assert inside.contents[0].text == "inside the folder\n"
        with pytest.raises(Exception, match="Permission denied"):
            await session.read_resource("document://top.txt")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../outside.txt", "leaves the server root"),
        ("%2e%2e/outside.txt", "leaves the server root"),
        ("notebooks/%2E%2E/../outside.txt", "leaves the server root"),
        ("..\\outside.txt", "leaves the server root"),
        ("/etc/passwd", "absolute"),
        ("escape.txt", "outside the server root"),
        (".hidden.txt", "hidden"),
        (".jupyter_ystore.db", "collaboration state"),
        (".ipynb_checkpoints/top-checkpoint.txt", "collaboration state"),
    ],
)
@pytest.mark.parametrize("who", ["jupyter-token", "jwt-read"])
async def test_path_traversal_is_refused(server, rsa_key, path, reason, who):
    headers = server.headers if who == "jupyter-token" else token_for(server, rsa_key, f"walker-{who}", "read")
    async with connect(server, headers=headers) as session:
        error = await call_error(session, "word_count", path=path)
    assert reason in error, error
    assert "outside the root" not in error and "words" not in error


async def test_absolute_path_into_the_root_is_refused(server):
    async with connect(server) as session:
        error = await call_error(session, "word_count", path=str(server.root / "top.txt"))
    assert "absolute" in error


async def test_rate_limit_triggers_and_recovers(server, rsa_key):
    hasty = token_for(server, rsa_key, "hasty", "read")
    calm = token_for(server, rsa_key, "calm", "read")
    async with connect(server, headers=hasty) as session, connect(server, headers=calm) as other:
        # At once, not one after another: one by one, the BURST + 10 calls overrun the bucket only if they all
        # come within 10 / RATE = 2 s (0.1 s a call); on a loaded machine they may not, and it rightly refills.
        results = await asyncio.gather(*(session.call_tool("probe_read", {"path": "top.txt"}) for _ in range(BURST + 10)))
        refused = [r for r in results if r.is_error]
        assert refused, "the rate limit never triggered"
        assert all(r.content[0].text.startswith("Rate limit: 'hasty' may make 5 tool calls per second") for r in refused)
        assert all(r.structured_content["code"] == "limit_exceeded" for r in refused)
        assert all(r.structured_content["retry_after"] > 0 for r in refused)
        await call(other, "probe_read", path="top.txt")  # another identity is not slowed down
        await asyncio.sleep(2 / RATE)
        await call(session, "probe_read", path="top.txt")  # recovered


async def test_argument_size_limits(server, rsa_key):
    async with connect(server, headers=token_for(server, rsa_key, "bulky", "admin")) as session:
        await call(session, "probe_write", path="top.txt", content="x" * 1000)
        error = await call_error(session, "probe_write", path="top.txt", content="x" * 1001)
        assert "'content'" in error and "1,001 characters" in error and "up to 1,000" in error
        await call(session, "probe_execute", code="y" * 100)
        error = await call_error(session, "probe_execute", code="y" * 101)
        assert "'code'" in error and "code up to 100 characters" in error


async def test_concurrent_executions_are_limited_and_recover(server, rsa_key):
    runner = token_for(server, rsa_key, "runner", "admin")
    async with connect(server, headers=runner) as one, connect(server, headers=runner) as two:
        first = asyncio.create_task(one.call_tool("probe_execute", {"seconds": 1.5}))
        await asyncio.sleep(0.5)
        error = await call_error(two, "probe_execute", seconds=0)
        assert "'runner' already runs 1 executions (the limit is 1)" in error
        await call(two, "probe_read", path="top.txt")  # only executions are limited
        assert not (await first).is_error
        await call(two, "probe_execute", seconds=0)  # recovered


async def test_audit_events_name_who_what_where_and_outcome_never_the_token(server, rsa_key, events_log):
    auditor = token_for(server, rsa_key, "auditor", "write:notebooks/")
    async with connect(server, headers=auditor) as session:
        await call(session, "probe_write", path="notebooks/a.txt")
        await call_error(session, "probe_write", path="top.txt")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        events = [json.loads(line) for line in events_log.read_text().splitlines() if line.strip()]
        mine = [e for e in events if e.get("actor") == "auditor"]
        if len(mine) >= 2:
            break
        await asyncio.sleep(0.1)
    ok = [e for e in mine if e["__schema__"].endswith("/tool_called")]
    failed = [e for e in mine if e["__schema__"].endswith("/tool_failed")]
    assert [(e["tool"], e["path"]) for e in ok] == [("probe_write", "notebooks/a.txt")]
    assert [(e["tool"], e["path"], e["code"]) for e in failed] == [("probe_write", "top.txt", "permission_denied")]
    text = events_log.read_text() + request_log(server.log_text())
    leaked = [t[:12] for t in TOKENS if t in text]
    assert not leaked, f"credentials found in the events or the server log: {leaked}"
    # Each part of a JWT (header, claims, signature) is a secret-bearing string too.
    signatures = [t.rsplit(".", 1)[1] for t in TOKENS if t.count(".") == 2]
    assert not [s for s in signatures if s in text]


async def test_no_credential_reaches_the_log_from_urls_headers_or_jwts(server, rsa_key, other_rsa_key, events_log):
    good = mint(rsa_key, server.mcp_url, sub="logged", scope="read")
    expired = mint(rsa_key, server.mcp_url, sub="late", exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    forged = mint(other_rsa_key, server.mcp_url, sub="forger")
    TOKENS.extend([good, expired, forged])
    async with httpx2.AsyncClient() as http:
        for token in (server.token, good, "url-secret-" + os.urandom(8).hex()):
            TOKENS.append(token)
            for name in ("token", "access_token"):
                for query in (f"{name}={token}", f"x=1&{name}={token}"):
                    answer = await http.post(f"{server.mcp_url}?{query}", json=INITIALIZE, headers=MCP_HEADERS)
                    assert answer.status_code == 401 and "Tokens in the URL are refused" in answer.text, query
    for token in (expired, forged, "header-secret-" + os.urandom(8).hex()):
        TOKENS.append(token)
        for scheme in ("Bearer", "token"):
            answer = await post_initialize(server.mcp_url, {"Authorization": f"{scheme} {token}"})
            assert answer.status_code == 401
    assert (await post_initialize(server.mcp_url, bearer(good))).status_code == 200
    text = events_log.read_text() + request_log(server.log_text())
    assert "Tokens in the URL are refused" in text  # the refusals were logged, without what they refused
    leaked = [t[:12] for t in TOKENS if t in text]
    assert not leaked, f"credentials found in the events or the server log: {leaked}"
    signatures = [t.rsplit(".", 1)[1] for t in TOKENS if t.count(".") == 2]
    assert not [s for s in signatures if s in text]


async def test_not_found_messages_name_only_documents_the_caller_may_read(server, rsa_key):
    (server.root / "notebooks" / "closed.txt").write_text("nobody has this open\n")
    async with connect(server, headers=token_for(server, rsa_key, "opener", "admin")) as admin:
        secret_room = (await call(admin, "get_document", path="top.txt"))["room_id"]
        await call(admin, "get_document", path="notebooks/a.txt")  # both rooms are open now
    # "walled" may read everything but top.txt (the probe pack denies it that one file).
    async with connect(server, headers=token_for(server, rsa_key, "walled", "read")) as session:
        errors = [
            await call_error(session, "get_user_cursors", path="notebooks/closed.txt"),
            await call_error(session, "join_session", session_id="text:file:no-such-room"),
            await call_error(session, "join_session", session_id=secret_room),
        ]
        with pytest.raises(Exception) as raised:
            await session.read_resource("awareness://notebooks/closed.txt")
        errors.append(str(raised.value))
    for error in errors:
        assert "notebooks/a.txt" in error, error  # what it may read is still listed
        assert "top.txt" not in error and secret_room not in error.replace(f"session {secret_room!r}", ""), error
    assert errors[2].startswith(f"No open collaboration session {secret_room!r}")  # not "denied on 'top.txt'"


async def test_completions_offer_only_paths_the_identity_may_read(server, rsa_key):
    import mcp_types as types

    template = types.ResourceTemplateReference(uri="document://{path}")
    async with connect(server, headers=token_for(server, rsa_key, "folder-completer", "read:notebooks")) as session:
        folder = (await session.complete(template, {"name": "path", "value": ""})).completion
    async with connect(server, headers=token_for(server, rsa_key, "completer", "read")) as session:
        everything = (await session.complete(template, {"name": "path", "value": ""})).completion
    assert "top.txt" in everything.values and "notebooks2/b.txt" in everything.values
    assert folder.values and all(v.startswith("notebooks/") for v in folder.values), folder.values
    assert folder.total == len(folder.values)
