"""The pytest plugin's own fixtures, as a third-party pack author uses them."""

from __future__ import annotations

from collab_mcp_core.testing import CollabServer, call


async def test_mcp_session_fixture_is_connected(collab_server, mcp_session):
    (collab_server.root / "f.txt").write_text("a b c d\n")
    assert (await call(mcp_session, "word_count", path="f.txt"))["words"] == 4


async def test_mcp_session_fixture_again(collab_server, mcp_session):
    # a second use in the same module: the first one's teardown left things clean
    assert "word_count" in {t.name for t in (await mcp_session.list_tools()).tools}


def test_tracebacks_skip_collaborators_that_left_mid_send(tmp_path):
    log = tmp_path / "server.log"
    log.write_text(
        "[I 1] ok\n"
        "[E 2] Failed to write message\n    Traceback (most recent call last):\n"
        '      File "handlers.py", line 353, in send\n    tornado.websocket.WebSocketClosedError\n'
        "[E 3] boom\n    Traceback (most recent call last):\n      File \"y\", line 2\n    ValueError: bad\n"
        "thread 'main' panicked at src/x.rs\n"
        "[I 4] fine\n"
    )
    server = CollabServer(root=tmp_path, port=0, token="", process=None, log_path=log, data_dir=tmp_path)
    found = server.tracebacks()
    assert len(found) == 2 and found[0].endswith("ValueError: bad") and "panicked" in found[1]
