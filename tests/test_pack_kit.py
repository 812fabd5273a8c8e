"""The pack authors' kit: a pack's async tests run against a real server with no set-up of their own."""

from __future__ import annotations

import subprocess
import sys

A_PACK_AUTHORS_TEST = '''
from collab_mcp_core.testing import call, join_room


async def test_word_count(collab_server, mcp_session):
    (collab_server.root / "a.txt").write_text("one two three")
    assert (await call(mcp_session, "word_count", path="a.txt"))["words"] == 3


async def test_a_collaborator_joins(collab_server):
    (collab_server.root / "b.txt").write_text("hello")
    async with join_room(collab_server, "b.txt", kind="file") as person:
        assert str(person.text) == "hello"
'''


def test_async_tests_run_with_no_configuration(tmp_path):
    (tmp_path / "test_mine.py").write_text(A_PACK_AUTHORS_TEST)
    run = subprocess.run(
        # No pytest.ini, no conftest, no asyncio settings; a pytest-asyncio warning would be an error.
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::pytest.PytestDeprecationWarning"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout
