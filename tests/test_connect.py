"""``collab-mcp connect``: one-line errors at start, and bridge mode over stdio."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from collab_mcp_core.testing import call, connect, connect_stdio, free_port


def run_connect(url: str, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}
    if token is not None:
        env["JUPYTER_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "collab_mcp_core.cli", "connect", url, *args],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The error of a connect that must fail: exit code 2, one line on stderr, no traceback, nothing on stdout."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def plain_server(collab_server_factory):
    """A Jupyter server with jupyter-server-ydoc and without collab-mcp."""
    return collab_server_factory(collab_mcp=False)


def test_nothing_listening_is_a_one_line_error():
    url = f"http://127.0.0.1:{free_port()}/"
    line = one_line_error(run_connect(url, token="t"))
    assert f"cannot reach {url}" in line


def test_not_a_url_is_a_one_line_error():
    line = one_line_error(run_connect("127.0.0.1:8888", token="t"))
    assert "is not a server URL" in line


def test_token_in_the_url_is_refused_without_echoing_it():
    line = one_line_error(run_connect("http://127.0.0.1:1/?token=s3cret-in-url"))
    assert "--token or JUPYTER_TOKEN" in line and "s3cret" not in line


def test_wrong_token_says_so_and_never_prints_it(collab_server):
    wrong = "wrong-" + collab_server.token[:6]
    result = run_connect(collab_server.url, "--token", wrong)
    line = one_line_error(result)
    assert "refused the token" in line
    assert wrong not in result.stderr and collab_server.token not in result.stderr


def test_missing_token_says_how_to_give_one(collab_server):
    line = one_line_error(run_connect(collab_server.url))
    assert "needs a token" in line and "JUPYTER_TOKEN" in line


def test_wrong_base_path_says_no_jupyter_server_there(collab_server):
    line = one_line_error(run_connect(collab_server.url + "user/nobody/", token=collab_server.token))
    assert "no Jupyter server at" in line and "base path" in line


def test_server_without_collaboration_names_the_package(collab_server_factory):
    server = collab_server_factory(
        collab_mcp=False,
        config_py='c.ServerApp.jpserver_extensions = {"collab_mcp_core": False, "jupyter_server_ydoc": False}\n',
    )
    line = one_line_error(run_connect(server.url, token=server.token))
    assert "has no collaboration API" in line and "jupyter-collaboration" in line


def test_bridge_mode_needs_collab_mcp_on_the_server(plain_server):
    line = one_line_error(run_connect(plain_server.url, "--mode", "bridge", token=plain_server.token))
    assert "is not a collab-mcp endpoint" in line


def test_self_signed_certificate_is_refused_unless_insecure(tmp_path):
    """TLS verification is on by default; --insecure skips it with a warning."""
    import http.server
    import ssl
    import threading

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )

    class NotJupyter(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotJupyter)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{httpd.server_address[1]}/"
        line = one_line_error(run_connect(url, token="t"))
        assert "could not be verified" in line and "--insecure" in line
        insecure = run_connect(url, "--insecure", token="t")
        assert insecure.returncode == 2 and "Traceback" not in insecure.stderr
        warning, error = insecure.stderr.strip().splitlines()
        assert "--insecure" in warning and "not checked" in warning
        assert "no Jupyter server at" in error  # past TLS: the server was reached
    finally:
        httpd.shutdown()


# -- bridge mode ------------------------------------------------------------------------------


async def test_bridge_relays_tools_calls_and_progress(collab_server):
    (collab_server.root / "bridged.ipynb").write_text(
        '{"cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "outputs": [], "execution_count": null,'
        ' "source": "print(\'one\')\\nprint(\'two\')"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    async with connect(collab_server) as direct:
        expected = (await direct.list_tools()).tools
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    with tempfile.TemporaryFile("w+") as errlog:
        async with connect_stdio(collab_server, errlog=errlog) as bridged:
            assert (await bridged.initialize()).server_info.name == "collab-mcp"
            tools = (await bridged.list_tools()).tools
            assert [t.model_dump() for t in tools] == [t.model_dump() for t in expected]
            listing = await call(bridged, "list_notebooks")
            assert "bridged.ipynb" in str(listing)
            result = await bridged.call_tool(
                "execute_notebook_cell", {"path": "bridged.ipynb", "cell_id": "c1", "timeout": 60},
                progress_callback=on_progress,
            )
            assert not result.is_error, result.content
            assert result.structured_content["outputs"][0]["text"] == "one\ntwo\n"
        errlog.seek(0)
        log = errlog.read()
    assert progress and progress == sorted(progress)
    assert "bridge to" in log and collab_server.token not in log


async def test_bridge_under_a_base_url(collab_server_factory):
    server = collab_server_factory("--ServerApp.base_url=/user/alice/")
    (server.root / "here.txt").write_text("hello")
    assert server.url.endswith("/user/alice/")
    async with connect_stdio(server) as bridged:
        listing = await call(bridged, "list_documents")
    assert "here.txt" in str(listing)
