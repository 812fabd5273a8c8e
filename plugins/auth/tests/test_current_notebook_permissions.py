"""A call that leaves path out is authorized on the session's current notebook, exactly as if it named it."""

from __future__ import annotations

import json

import pytest
from jwt_helpers import bearer, mint, pem_public

from collab_mcp_core.testing import call, call_error, connect


@pytest.fixture(scope="module")
def server(start_jwt_server, rsa_key, tmp_path_factory):
    key_file = tmp_path_factory.mktemp("keys") / "public.pem"
    key_file.write_bytes(pem_public(rsa_key))
    server = start_jwt_server(public_key_file=str(key_file), Limits__rate_per_second=0.0)
    (server.root / "mine").mkdir()
    cell = {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# mine"}
    notebook = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    (server.root / "mine" / "nb.ipynb").write_text(notebook)
    return server


async def test_the_current_notebook_is_checked_with_each_tools_own_permission(server, rsa_key):
    # May read and run notebooks under mine/, but not edit them.
    token = mint(rsa_key, server.mcp_url, sub="runner", scope="read:mine/ execute:mine/")
    async with connect(server, headers=bearer(token)) as mcp:
        await call(mcp, "create_notebook_session", path="mine/nb.ipynb", start_kernel=False)
        before = await call(mcp, "get_notebook")
        assert before["path"] == "mine/nb.ipynb"
        error = await call_error(mcp, "insert_notebook_cell", content="x = 1")
        assert "Permission denied" in error and "'write' permission" in error and "mine/nb.ipynb" in error
        after = await call(mcp, "get_notebook")
        assert after["document_version"] == before["document_version"]  # refused: nothing changed
