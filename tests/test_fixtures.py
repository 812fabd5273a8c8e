"""The pytest plugin's own fixtures, as a third-party pack author uses them."""

from __future__ import annotations

from collab_mcp_core.testing import call


async def test_mcp_session_fixture_is_connected(collab_server, mcp_session):
    (collab_server.root / "f.txt").write_text("a b c d\n")
    assert (await call(mcp_session, "word_count", path="f.txt"))["words"] == 4


async def test_mcp_session_fixture_again(collab_server, mcp_session):
    # a second use in the same module: the first one's teardown left things clean
    assert "word_count" in {t.name for t in (await mcp_session.list_tools()).tools}
