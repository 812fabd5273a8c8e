"""Each MCP session's current notebook: create_notebook_session sets it, notebook tools use it when path is left out."""

from __future__ import annotations

from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, sources, write_notebook


def outputs_text(collaborator) -> list[str]:
    return ["".join(o.get("text", "") for o in c.get("outputs") or []) for c in cells_of(collaborator)]


async def test_two_sessions_each_work_in_their_own_current_notebook(collab_server):
    write_notebook(collab_server.root, "alpha.ipynb", [{"cell_type": "markdown", "source": "# alpha"}])
    write_notebook(collab_server.root, "beta.ipynb", [{"cell_type": "markdown", "source": "# beta"}])
    async with connect(collab_server) as one, connect(collab_server) as two, \
            join_room(collab_server, "alpha.ipynb") as alpha, join_room(collab_server, "beta.ipynb") as beta:
        opened = await call(one, "create_notebook_session", path="alpha.ipynb")
        assert opened["current_notebook"] == "alpha.ipynb" and "current notebook" in opened["message"]
        await call(two, "create_notebook_session", path="beta.ipynb")
        # Interleaved, never naming the notebook.
        a1 = await call(one, "insert_notebook_cell", content="print('from one')")
        b1 = await call(two, "insert_notebook_cell", content="print('from two')")
        ran_b = await call(two, "execute_notebook_cell", cell_id=b1["cell_id"])
        ran_a = await call(one, "execute_notebook_cell", cell_id=a1["cell_id"])
        a2 = await call(one, "insert_notebook_cell", content="x = 'one'")
        b2 = await call(two, "insert_notebook_cell", content="x = 'two'")
        # Each result says which notebook it used.
        assert a1["path"] == a2["path"] == ran_a["path"] == "alpha.ipynb"
        assert b1["path"] == b2["path"] == ran_b["path"] == "beta.ipynb"
        await alpha.wait_for(lambda: outputs_text(alpha) == ["", "from one\n", ""], what="one's cells and output")
        await beta.wait_for(lambda: outputs_text(beta) == ["", "from two\n", ""], what="two's cells and output")
        assert sources(alpha) == ["# alpha", "print('from one')", "x = 'one'"]
        assert sources(beta) == ["# beta", "print('from two')", "x = 'two'"]
        # Each session's kernel is its notebook's.
        assert ran_a["kernel_id"] != ran_b["kernel_id"]
        code_one = await call(one, "execute_code", code="print('ran in', 'one')")
        assert code_one["path"] == "alpha.ipynb" and code_one["kernel_id"] == ran_a["kernel_id"]
        assert (await call(two, "get_notebook"))["path"] == "beta.ipynb"
        ran_all = await call(two, "execute_cells", all=True)
        assert ran_all["path"] == "beta.ipynb" and len(ran_all["cells"]) == 2
        assert (await call(one, "read_notebook_cell", index=0))["path"] == "alpha.ipynb"
        page = await call(one, "read_cell_output", cell_id=a1["cell_id"], output_index=0)
        assert page["path"] == "alpha.ipynb" and page["text"] == "from one\n"
        assert (await call(one, "get_notebook", view="outline"))["path"] == "alpha.ipynb"
        # The awareness pack tells the agent its current notebook too.
        assert (await call(one, "get_active_sessions"))["current_notebook"] == "alpha.ipynb"
        assert (await call(two, "get_active_sessions"))["current_notebook"] == "beta.ipynb"
        # A named path still wins over the current notebook, and does not change it.
        other = await call(one, "insert_notebook_cell", path="beta.ipynb", content="# named")
        assert other["path"] == "beta.ipynb"
        assert (await call(one, "get_notebook"))["path"] == "alpha.ipynb"
        # Switching: the next create_notebook_session makes another notebook current.
        await call(one, "create_notebook_session", path="beta.ipynb", start_kernel=False)
        assert (await call(one, "get_notebook"))["path"] == "beta.ipynb"
    # A new session starts without one: the context ended with its session.
    async with connect(collab_server) as fresh:
        assert (await call(fresh, "get_active_sessions"))["current_notebook"] is None
        assert "create_notebook_session" in await call_error(fresh, "get_notebook")


async def test_path_left_out_without_a_current_notebook_is_a_clear_error_that_changes_nothing(collab_server):
    path = write_notebook(collab_server.root, "untouched.ipynb", [{"source": "a = 1"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        for tool, arguments in [
            ("insert_notebook_cell", {"content": "b = 2"}),
            ("update_notebook_cell", {"cell_id": cell_id, "content": "a = 3"}),
            ("delete_notebook_cell", {"cell_id": cell_id}),
            ("execute_notebook_cell", {"cell_id": cell_id}),
            ("execute_code", {"code": "1"}),
            ("execute_cells", {"all": True}),
            ("get_notebook", {}),
            ("restart_kernel", {}),
        ]:
            error = await call_error(mcp, tool, **arguments)
            assert "no current notebook" in error and "create_notebook_session" in error and "path" in error, error
        assert sources(ada) == ["a = 1"] and cells_of(ada)[0].get("execution_count") is None
        # create_notebook_session itself needs a path.
        error = await call_error(mcp, "create_notebook_session")
        assert "path" in error and "Field required" in error


async def test_a_modern_client_has_a_current_notebook_of_its_own(collab_server):
    path = write_notebook(collab_server.root, "modern.ipynb", [{"cell_type": "markdown", "source": "# m"}])
    async with connect(collab_server, modern=True) as mcp, join_room(collab_server, path) as ada:
        await call(mcp, "create_notebook_session", path=path, start_kernel=False)
        inserted = await call(mcp, "insert_notebook_cell", content="m = 1")
        assert inserted["path"] == path
        await ada.wait_for(lambda: sources(ada) == ["# m", "m = 1"], what="the modern client's cell")
