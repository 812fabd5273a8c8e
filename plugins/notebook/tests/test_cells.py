"""Reading and editing notebooks through the live shared document, end to end."""

from __future__ import annotations

import asyncio
import json


from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, disk_cells, sources, write_notebook


async def server_has(server, path: str, index: int, source: str) -> None:
    """Wait until the server's document holds ``source`` in cell ``index`` (read by a separate MCP session,
    so the agent under test keeps its own view of the cell)."""
    async with connect(server) as observer:
        for _ in range(200):
            if (await call(observer, "read_notebook_cell", path=path, index=index))["source"] == source:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"the server never had {source!r} in cell {index} of {path}")


USER = {"username": "ada", "name": "Ada", "display_name": "Ada Lovelace", "initials": "AL", "color": "#f00"}


async def test_list_notebooks_opens_no_room_and_shows_collaborators(collab_server):
    async with connect(collab_server) as mcp_session:
        root = collab_server.root
        write_notebook(root, "listing/a.ipynb", [{"source": "1"}])
        write_notebook(root, "listing/sub/b.ipynb")
        write_notebook(root, "listing/.hidden/c.ipynb")
        (root / "listing" / "notes.txt").write_text("not a notebook")

        listed = await call(mcp_session, "list_notebooks", path="listing")
        assert [n["path"] for n in listed["notebooks"]] == ["listing/a.ipynb", "listing/sub/b.ipynb"]
        assert not any(n["room_open"] for n in listed["notebooks"])
        assert "listing/a.ipynb" not in collab_server.log_text()  # no room was opened to answer

        async with join_room(collab_server, "listing/a.ipynb") as ada:
            await ada.set_awareness({"user": USER})
            for _ in range(100):  # until the awareness update reached the server
                listed = await call(mcp_session, "list_notebooks", path="listing", limit=1)
                entry = listed["notebooks"][0]
                if entry["collaborators"]:
                    break
                await asyncio.sleep(0.05)
            assert entry["room_open"] and [c["username"] for c in entry["collaborators"]] == ["ada"]
            assert listed["next_start"] == 1 and listed["total"] == 2

        assert "No folder" in await call_error(mcp_session, "list_notebooks", path="nowhere")


async def test_get_notebook_returns_cells_outputs_and_collaboration_state(collab_server):
    async with connect(collab_server) as mcp_session:
        long_text = "".join(f"line {i}\n" for i in range(5000))
        path = write_notebook(
            collab_server.root,
            "get.ipynb",
            [
                {"cell_type": "markdown", "source": "# Title"},
                {
                    "source": "print('x')",
                    "execution_count": 3,
                    "outputs": [{"output_type": "stream", "name": "stdout", "text": long_text}],
                },
                {
                    "source": "display(html)",
                    "outputs": [
                        {"output_type": "display_data", "data": {"text/html": "<b>bold</b> <i>it</i>"}, "metadata": {}}
                    ],
                },
            ],
        )
        view = await call(mcp_session, "get_notebook", path=path)
        assert [c["cell_type"] for c in view["cells"]] == ["markdown", "code", "code"]
        assert len({c["cell_id"] for c in view["cells"]}) == 3
        stream = view["cells"][1]["outputs"][0]
        assert view["cells"][1]["execution_count"] == 3
        assert stream["text"].startswith("line 0\n") and stream["text"].rstrip().endswith("line 4999")
        assert len(stream["text"]) < 4200 and "characters cut" in stream["note"]
        html = view["cells"][2]["outputs"][0]
        assert html["text"] == "bold it" and "HTML" in html["note"]
        collab = view["collaboration"]
        assert collab["room_open"] and collab["room_id"].startswith("json:notebook:")
        assert collab["document_version"] == view["document_version"]

        page = await call(
            mcp_session,
            "get_notebook",
            path=path,
            start=1,
            limit=1,
            include_outputs=False,
            include_collaboration_state=False,
        )
        assert [c["index"] for c in page["cells"]] == [1] and page["next_start"] == 2
        assert "outputs" not in page["cells"][0] and page["collaboration"] is None

        by_index = await call(mcp_session, "read_notebook_cell", path=path, index=-1)
        by_id = await call(mcp_session, "read_notebook_cell", path=path, cell_id=by_index["cell_id"])
        assert by_id == by_index and by_id["index"] == 2


async def test_collaborator_sees_every_edit(collab_server):
    async with connect(collab_server) as mcp_session:
        path = write_notebook(
            collab_server.root, "live.ipynb", [{"source": "a = 1"}, {"cell_type": "markdown", "source": "text"}]
        )
        async with join_room(collab_server, path) as ada:
            inserted = await call(mcp_session, "insert_notebook_cell", path=path, content="b = 2", index=1)
            new_id = inserted["cell_id"]
            await ada.wait_for(lambda: sources(ada) == ["a = 1", "b = 2", "text"], what="the inserted cell")
            assert cells_of(ada)[1]["id"] == new_id and cells_of(ada)[1]["cell_type"] == "code"

            appended = await call(
                mcp_session, "insert_notebook_cell", path=path, content="## end", cell_type="markdown"
            )
            assert appended["index"] == 3
            await ada.wait_for(lambda: sources(ada)[-1] == "## end", what="the appended cell")

            await call(mcp_session, "update_notebook_cell", path=path, cell_id=new_id, content="b = 20  # changed")
            await ada.wait_for(lambda: sources(ada)[1] == "b = 20  # changed", what="the update")

            await call(mcp_session, "edit_notebook_cell", path=path, cell_id=new_id, old="20", new="30")
            await ada.wait_for(lambda: sources(ada)[1] == "b = 30  # changed", what="the edit")

            await call(mcp_session, "move_notebook_cell", path=path, cell_id=new_id, index=-1)
            await ada.wait_for(
                lambda: sources(ada) == ["a = 1", "text", "## end", "b = 30  # changed"], what="the move"
            )
            assert cells_of(ada)[-1]["id"] == new_id

            await call(
                mcp_session,
                "update_notebook_cell",
                path=path,
                cell_id=new_id,
                content="now markdown",
                cell_type="markdown",
            )
            await ada.wait_for(lambda: cells_of(ada)[-1]["cell_type"] == "markdown", what="the type change")
            assert cells_of(ada)[-1]["id"] == new_id and sources(ada)[-1] == "now markdown"

            await call(mcp_session, "delete_notebook_cell", path=path, cell_id=new_id)
            await ada.wait_for(lambda: sources(ada) == ["a = 1", "text", "## end"], what="the delete")
            ids = [c["id"] for c in cells_of(ada)]
            assert len(ids) == len(set(ids))

            saved = await call(mcp_session, "save_notebook", path=path)
            assert saved["cell_count"] == 3
            on_disk = disk_cells(collab_server.root, path)
            assert [("".join(c["source"]), c["id"]) for c in on_disk] == [
                (str(c["source"]), c["id"]) for c in ada.notebook.ycells
            ]
        assert "Out-of-band" not in collab_server.log_text()


async def test_unicode_edits_use_characters_not_bytes(collab_server):
    async with connect(collab_server) as mcp_session:
        path = write_notebook(collab_server.root, "unicode.ipynb", [{"source": "s = 'héllo 😀 wörld'\nprint(s)"}])
        async with join_room(collab_server, path) as ada:
            cell_id = cells_of(ada)[0]["id"]
            await call(mcp_session, "edit_notebook_cell", path=path, cell_id=cell_id, old="wörld", new="мир 🌍")
            await ada.wait_for(lambda: sources(ada)[0] == "s = 'héllo 😀 мир 🌍'\nprint(s)", what="the unicode edit")
            await call(
                mcp_session,
                "update_notebook_cell",
                path=path,
                cell_id=cell_id,
                content="s = 'héllo 😀😀 мир 🌍!'\nprint(s, 'é')",
            )
            await ada.wait_for(lambda: sources(ada)[0] == "s = 'héllo 😀😀 мир 🌍!'\nprint(s, 'é')", what="the diff")
            read = await call(mcp_session, "read_notebook_cell", path=path, cell_id=cell_id)
            assert read["source"] == sources(ada)[0]


async def test_concurrent_edits_in_one_cell_both_survive(collab_server):
    async with connect(collab_server) as mcp_session:
        path = write_notebook(
            collab_server.root, "concurrent.ipynb", [{"source": "x = 1\n# agent line\n# human line\n"}]
        )
        async with join_room(collab_server, path) as ada:
            cell_id = cells_of(ada)[0]["id"]
            typed = "# typed by Ada é😀"

            async def human_types() -> None:
                text = ada.notebook.ycells[0]["source"]
                for ch in typed:
                    text += ch  # appends at the end, one keystroke at a time, as a browser sends them
                    await asyncio.sleep(0.01)

            async def agent_edits() -> None:
                for i in range(6):
                    await call(
                        mcp_session,
                        "edit_notebook_cell",
                        path=path,
                        cell_id=cell_id,
                        old=f"x = {i + 1}",
                        new=f"x = {i + 2}",
                    )

            await asyncio.gather(human_types(), agent_edits())
            expected = f"x = 7\n# agent line\n# human line\n{typed}"
            await ada.wait_for(lambda: sources(ada)[0] == expected, what="both sets of edits")
            # The collaborator's last keystrokes may still be on their way to the server: poll it.
            for _ in range(100):
                server_view = await call(mcp_session, "read_notebook_cell", path=path, cell_id=cell_id)
                if server_view["source"] == expected:
                    break
                await asyncio.sleep(0.05)
            assert server_view["source"] == expected


async def test_stale_expected_source_is_refused(collab_server):
    async with connect(collab_server) as mcp_session:
        path = write_notebook(collab_server.root, "stale.ipynb", [{"source": "v = 1"}])
        async with join_room(collab_server, path) as ada:
            read = await call(mcp_session, "read_notebook_cell", path=path, index=0)
            text = ada.notebook.ycells[0]["source"]
            text += "  # human"
            await server_has(collab_server, path, 0, "v = 1  # human")
            err = await call_error(
                mcp_session,
                "update_notebook_cell",
                path=path,
                cell_id=read["cell_id"],
                content="v = 2",
                expected_source=read["source"],
            )
            assert "changed since you read it" in err and "v = 1  # human" in err
            err = await call_error(
                mcp_session,
                "edit_notebook_cell",
                path=path,
                cell_id=read["cell_id"],
                old="1",
                new="2",
                expected_hash=read["source_hash"],
            )
            assert "hash" in err
            assert sources(ada) == ["v = 1  # human"]
            fresh = await call(mcp_session, "read_notebook_cell", path=path, index=0)
            await call(
                mcp_session,
                "update_notebook_cell",
                path=path,
                cell_id=read["cell_id"],
                content="v = 2  # human",
                expected_hash=fresh["source_hash"],
            )
            await ada.wait_for(lambda: sources(ada) == ["v = 2  # human"], what="the checked update")


async def test_bad_input_is_a_clear_error_and_changes_nothing(collab_server):
    async with connect(collab_server) as mcp_session:
        root = collab_server.root
        path = write_notebook(root, "bad.ipynb", [{"source": "keep = 1"}, {"cell_type": "markdown", "source": "m"}])
        (root / "plain.txt").write_text("text")
        (root / ".secret.ipynb").write_text(json.dumps({"cells": []}))
        (root / "corrupt.ipynb").write_text("{not json")
        async with join_room(collab_server, path) as ada:
            before = cells_of(ada)
            version = (await call(mcp_session, "get_notebook", path=path))["document_version"]
            code_id, md_id = before[0]["id"], before[1]["id"]
            cases = [
                ("get_notebook", {"path": "missing.ipynb"}, "No notebook"),
                ("get_notebook", {"path": "../outside.ipynb"}, "leaves the server root"),
                ("get_notebook", {"path": "/etc/passwd"}, "absolute"),
                ("get_notebook", {"path": ".secret.ipynb"}, "hidden"),
                ("get_notebook", {"path": "plain.txt"}, "not a notebook"),
                ("get_notebook", {"path": "corrupt.ipynb"}, "could not be opened as a notebook"),
                ("read_notebook_cell", {"path": path, "cell_id": "nope"}, "No cell with id 'nope'"),
                ("read_notebook_cell", {"path": path, "index": 5}, "out of range"),
                ("insert_notebook_cell", {"path": path, "content": "x", "index": 9}, "out of range"),
                ("insert_notebook_cell", {"path": path, "content": "x", "cell_type": "sql"}, "cell_type"),
                ("insert_notebook_cell", {"path": "missing.ipynb", "content": "x"}, "No notebook"),
                ("update_notebook_cell", {"path": path, "cell_id": "nope", "content": "x"}, "No cell"),
                (
                    "update_notebook_cell",
                    {"path": path, "cell_id": code_id, "content": "x", "cell_type": "html"},
                    "cell_type",
                ),
                ("edit_notebook_cell", {"path": path, "cell_id": code_id, "old": "absent", "new": "x"}, "not found"),
                ("edit_notebook_cell", {"path": path, "cell_id": code_id, "old": "e", "new": "x"}, "occurs 2 times"),
                ("edit_notebook_cell", {"path": path, "cell_id": code_id, "old": "", "new": "x"}, "must not be empty"),
                ("delete_notebook_cell", {"path": path, "cell_id": "nope"}, "No cell"),
                ("move_notebook_cell", {"path": path, "cell_id": code_id, "index": 2}, "out of range"),
                ("move_notebook_cell", {"path": path, "cell_id": "nope", "index": 0}, "No cell"),
                ("clear_notebook_outputs", {"path": path, "cell_id": md_id}, "only code cells"),
                ("create_notebook_session", {"path": "new.ipynb"}, "create=true"),
                ("create_notebook_session", {"path": "plain.txt", "create": True}, "not a notebook"),
                ("create_notebook_session", {"path": "no/such/dir.ipynb", "create": True}, "does not exist"),
            ]
            for tool, args, expected in cases:
                err = await call_error(mcp_session, tool, **args)
                assert expected in err, (tool, args, err)
            await asyncio.sleep(0.2)
            assert cells_of(ada) == before
            assert (await call(mcp_session, "get_notebook", path=path))["document_version"] == version
        assert not (root / "new.ipynb").exists()


async def test_notebook_nobody_has_open_is_edited_through_a_room_and_saved(collab_server):
    async with connect(collab_server) as mcp_session:
        path = write_notebook(collab_server.root, "closed.ipynb", [{"source": "first"}])
        inserted = await call(mcp_session, "insert_notebook_cell", path=path, content="second", index=-1)
        await call(mcp_session, "save_notebook", path=path)
        on_disk = disk_cells(collab_server.root, path)
        assert ["".join(c["source"]) for c in on_disk] == ["first", "second"]
        assert on_disk[1]["id"] == inserted["cell_id"]
        cleared = await call(mcp_session, "clear_notebook_outputs", path=path)
        assert cleared["cleared"] == []


async def test_create_notebook_session_creates_but_never_overwrites(collab_server):
    async with connect(collab_server) as mcp_session:
        (collab_server.root / "made").mkdir()
        made = await call(
            mcp_session, "create_notebook_session", path="made/new.ipynb", create=True, start_kernel=False
        )
        assert made["created"] is True and made["room_id"].startswith("json:notebook:")
        assert made["kernel_id"] is None
        path = write_notebook(collab_server.root, "made/existing.ipynb", [{"source": "precious"}])
        again = await call(mcp_session, "create_notebook_session", path=path, create=True, start_kernel=False)
        assert again["created"] is False and again["cell_count"] == 1
        assert ["".join(c["source"]) for c in disk_cells(collab_server.root, path)] == ["precious"]
        async with join_room(collab_server, "made/new.ipynb") as ada:
            assert len(cells_of(ada)) == 1  # the room's empty notebook: one empty code cell


async def test_tools_work_over_the_stateless_protocol_revision(collab_server):
    path = write_notebook(collab_server.root, "modern.ipynb", [{"source": "m = 1"}])
    async with connect(collab_server, modern=True) as client:
        inserted = await call(client, "insert_notebook_cell", path=path, content="m = 2")
        view = await call(client, "get_notebook", path=path)
        assert [c["cell_id"] for c in view["cells"]][-1] == inserted["cell_id"]
        assert [c["source"] for c in view["cells"]] == ["m = 1", "m = 2"]


async def test_old_format_notebooks_say_their_ids_are_not_stored(collab_server):
    import nbformat

    old = nbformat.v4.new_notebook()
    old.nbformat_minor = 4
    old.cells.append(nbformat.from_dict({"cell_type": "markdown", "metadata": {}, "source": "old"}))
    (collab_server.root / "old.ipynb").write_text(json.dumps(old))
    async with connect(collab_server) as mcp_session:
        view = await call(mcp_session, "get_notebook", path="old.ipynb")
        assert "nbformat 4.4" in view["note"] and view["cells"][0]["cell_id"]
        fresh = await call(mcp_session, "get_notebook", path="get.ipynb")
        assert fresh["note"] is None


async def test_update_keeps_what_people_typed_since_the_agent_read(collab_server):
    path = write_notebook(collab_server.root, "merge.ipynb", [{"source": "a = 1\nb = 2\n"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        read = await call(mcp, "read_notebook_cell", path=path, index=0)
        text = ada.notebook.ycells[0]["source"]
        text += "c = 'é😀'\n"  # a person adds a line after the agent read the cell
        server_sees = lambda: call(mcp, "get_notebook", path=path, include_outputs=False)  # noqa: E731
        await server_has(collab_server, path, 0, "a = 1\nb = 2\nc = 'é😀'\n")
        updated = await call(mcp, "update_notebook_cell", path=path, cell_id=read["cell_id"], content="a = 10\nb = 2\n")
        assert updated["merged"] is True
        await ada.wait_for(lambda: sources(ada) == ["a = 10\nb = 2\nc = 'é😀'\n"], what="the merged update")

        # The person changes the very line the agent rewrites next: refused, nothing changes.
        text = ada.notebook.ycells[0]["source"]
        del text[4:6]  # 'a = 10' -> 'a = '
        text.insert(4, "5")
        await server_has(collab_server, path, 0, "a = 5\nb = 2\nc = 'é😀'\n")
        err = await call_error(
            mcp, "update_notebook_cell", path=path, cell_id=read["cell_id"], content="a = 11\nb = 2\n"
        )
        assert "in the part you are changing" in err and "a = 5" in err
        await asyncio.sleep(0.2)
        assert sources(ada) == ["a = 5\nb = 2\nc = 'é😀'\n"]
        assert (await server_sees())["cells"][0]["source"] == "a = 5\nb = 2\nc = 'é😀'\n"
        # Having read it again, the agent's rewrite applies as asked.
        await call(mcp, "update_notebook_cell", path=path, cell_id=read["cell_id"], content="a = 11\n")
        await ada.wait_for(lambda: sources(ada) == ["a = 11\n"], what="the update after a fresh read")


async def test_a_long_notebook_read_in_one_call_keeps_outputs_in_order_and_counts_what_it_left_out(collab_server):
    # 600 outputs of 20 characters: 12,000 characters against the default budget of 4,000.
    cells = [
        {"source": f"print({i})", "outputs": [{"output_type": "stream", "name": "stdout", "text": f"{i:019d}\n"}]}
        for i in range(600)
    ]
    path = write_notebook(collab_server.root, "long_outputs.ipynb", cells)
    async with connect(collab_server) as mcp:
        view = await call(mcp, "get_notebook", path=path, limit=600)
    shown = [c["outputs"][0] for c in view["cells"] if c["outputs"]]
    assert [o["text"] for o in shown] == [f"{i:019d}\n" for i in range(len(shown))]  # whole, from the start
    assert 150 <= len(shown) < 600
    left_out = view["cells"][len(shown):]
    assert all(c["outputs"] == [] and c["outputs_omitted"] == 1 for c in left_out)  # counted, cell by cell
    assert all("outputs_omitted" not in c for c in view["cells"][: len(shown)])  # no nulls
    assert f"{600 - len(shown)} output(s) were left out" in view["note"]


async def test_save_notebook_writes_while_someone_keeps_typing(collab_server):
    # jupyter-server-ydoc cancels a save in progress at the next change; save_notebook must still write.
    path = write_notebook(collab_server.root, "typing.ipynb", [{"source": "start"}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        source = ada.notebook.ycells[0]["source"]
        source += " MARK"
        await server_has(collab_server, path, 0, "start MARK")

        async def type_on() -> None:
            while True:
                source.insert(len(source), ".")  # typing at the end, as fast as the loop allows
                await asyncio.sleep(0.001)

        typing = asyncio.create_task(type_on())
        try:
            await asyncio.sleep(0.2)
            await call(mcp, "save_notebook", path=path)
            on_disk = "".join(disk_cells(collab_server.root, path)[0]["source"])
            assert not typing.done()  # still typing while the save went through
        finally:
            typing.cancel()
        assert on_disk.startswith("start MARK.")
