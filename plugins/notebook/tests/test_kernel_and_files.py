"""Variables read without side effects, kernel specs, and listing files."""

from __future__ import annotations

import asyncio
import json
import sys

from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, write_notebook


async def test_inspect_variables_reads_silently(collab_server):
    path = write_notebook(
        collab_server.root, "vars.ipynb",
        [{"source": "x = [1, 2, 3]\nname = 'Ada'\nimport math\n_private = 1\ndef f(): pass"}, {"source": "len(x)"}],
    )
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        ids = [c["id"] for c in cells_of(ada)]
        first = await call(mcp, "execute_notebook_cell", path=path, cell_id=ids[0])
        await ada.wait_for(lambda: cells_of(ada)[0].get("execution_count") is not None, what="the first run")
        before = cells_of(ada)
        found = await call(mcp, "inspect_variables", path=path)
        by_name = {v["name"]: v for v in found["variables"]}
        assert by_name["x"] == {"name": "x", "type": "list", "length": 3, "repr": "[1, 2, 3]"}
        assert by_name["name"]["type"] == "str" and by_name["name"]["length"] == 3
        assert by_name["f"]["type"] == "function" and "length" not in by_name["f"]
        assert "math" not in by_name and "_private" not in by_name and "In" not in by_name  # modules, private, IPython's
        some = await call(mcp, "inspect_variables", path=path, names=["x", "nope"])
        assert [v["name"] for v in some["variables"]] == ["x"] and some["missing"] == ["nope"]
        await asyncio.sleep(0.3)
        assert cells_of(ada) == before  # nothing appeared in the notebook
        # The execution count did not move: the next run is the one after the first.
        second = await call(mcp, "execute_notebook_cell", path=path, cell_id=ids[1])
        assert second["execution_count"] == first["execution_count"] + 1
        assert second["outputs"][0]["text"] == "3"
        # The inspector left no names behind in the user's namespace.
        leftover = await call(mcp, "execute_code", path=path, code="sorted(k for k in globals() if 'inspect' in k.lower() or k in ('r', 'kind', 'describe', 'chosen', 'result'))")
        assert leftover["outputs"][0]["text"] == "[]"


async def test_inspect_variables_bad_input(collab_server):
    path = write_notebook(collab_server.root, "vars_bad.ipynb", [{"source": "1"}])
    async with connect(collab_server) as mcp:
        assert "has no kernel" in await call_error(mcp, "inspect_variables", path=path)
        assert "not a variable name" in await call_error(mcp, "inspect_variables", path=path, names=["x; import os"])
        assert "No notebook" in await call_error(mcp, "inspect_variables", path="missing.ipynb")


async def test_inspect_variables_says_when_the_kernel_is_not_python(collab_server):
    # A kernel spec that claims another language (it runs ipykernel underneath, so it starts here).
    spec_dir = collab_server.data_dir / "kernels" / "not-python"
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Not Python", "language": "R"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    path = write_notebook(collab_server.root, "r.ipynb", [{"source": "1"}])
    async with connect(collab_server) as mcp:
        specs = await call(mcp, "list_kernelspecs")
        assert {"name": "not-python", "display_name": "Not Python", "language": "R"} in specs["kernel_specs"]
        assert specs["default_kernel"] == "python3"
        await call(mcp, "create_notebook_session", path=path, kernel_name="not-python")
        err = await call_error(mcp, "inspect_variables", path=path)
        assert "supports Python kernels" in err and "runs R" in err


async def test_list_files_pages_filters_and_hides(collab_server):
    root = collab_server.root / "files_here"
    (root / "data" / "deep").mkdir(parents=True)
    (root / "a.csv").write_text("a")
    (root / "data" / "b.csv").write_text("bb")
    (root / "data" / "deep" / "c.csv").write_text("ccc")
    (root / "data" / "notes.txt").write_text("n")
    (root / ".secret").write_text("s")
    (root / ".jupyter_ystore.db").write_text("store")
    (root / "data" / ".hidden.csv").write_text("h")
    write_notebook(root, "nb.ipynb")
    async with connect(collab_server) as mcp:
        top = await call(mcp, "list_files", path="files_here")
        assert [(f["path"], f["type"]) for f in top["files"]] == [
            ("files_here/a.csv", "file"), ("files_here/data", "directory"), ("files_here/nb.ipynb", "notebook"),
        ]
        assert top["files"][0]["size"] == 1 and "size" not in top["files"][1]
        deep = await call(mcp, "list_files", path="files_here", pattern="*.csv", depth=3)
        assert [f["path"] for f in deep["files"]] == [
            "files_here/a.csv", "files_here/data/b.csv", "files_here/data/deep/c.csv",
        ]
        only = await call(mcp, "list_files", path="files_here", pattern="data/*.txt", depth=2)
        assert [f["path"] for f in only["files"]] == ["files_here/data/notes.txt"]
        page = await call(mcp, "list_files", path="files_here", depth=3, limit=2)
        assert page["total"] == 7 and len(page["files"]) == 2 and page["next_start"] == 2
        rest = await call(mcp, "list_files", path="files_here", depth=3, start=2, limit=10)
        assert rest["next_start"] is None and len(rest["files"]) == 5
        everything = [f["path"] for f in page["files"] + rest["files"]]
        assert not any("/." in p or p.startswith(".") for p in everything)


async def test_list_files_bad_input(collab_server):
    async with connect(collab_server) as mcp:
        cases = [
            ({"pattern": "../*"}, "tries to leave the folder"),
            ({"pattern": "/etc/*"}, "tries to leave the folder"),
            ({"pattern": "a/../../*"}, "tries to leave the folder"),
            ({"path": "../"}, "leaves the server root"),
            ({"path": ".hidden_dir"}, "hidden"),
            ({"path": "no_such_folder"}, "No folder at 'no_such_folder'"),
            ({"depth": 0}, "depth"),
            ({"depth": 99}, "depth"),
        ]
        for args, expected in cases:
            err = await call_error(mcp, "list_files", **args)
            assert expected in err, (args, err)
