"""Renamed arguments (docs/conventions.md, "Old names"): each old name still works in a real call, unadvertised.

One call per renamed argument through the MCP client, giving only the old name; the
edits are seen by a collaborator in the room. Both names with different values are refused,
naming both, and change nothing.
"""

from __future__ import annotations

import nbformat

from collab_mcp_core.testing import call, call_error, connect, join_room

OLD_NAMES = {
    "get_online_users": {"document_path"}, "get_user_presence": {"document_path"},
    "get_active_sessions": {"document_path"}, "get_user_cursors": {"document_path"},
    "update_cursor_position": {"document_path", "position"}, "get_user_activity": {"document_path"},
    "broadcast_user_activity": {"document_path"}, "list_documents": {"offset"}, "insert_text": {"text"},
    "insert_notebook_cell": {"position"}, "move_notebook_cell": {"position"},
}


async def test_old_names_are_not_in_tools_list(collab_server):
    async with connect(collab_server) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    for name, old in OLD_NAMES.items():
        assert not old & set(tools[name].input_schema["properties"]), (name, tools[name].input_schema)


async def test_each_old_name_still_works(collab_server):
    root = collab_server.root
    (root / "old").mkdir()
    for i in range(3):
        (root / "old" / f"n{i}.md").write_text(f"# {i}\n")
    (root / "old" / "notes.txt").write_text("hello\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 1"), nbformat.v4.new_code_cell("b = 2")])
    nbformat.write(nb, root / "old" / "nb.ipynb")
    async with connect(collab_server) as session, join_room(collab_server, "old/notes.txt", kind="file") as people, \
            join_room(collab_server, "old/nb.ipynb") as viewer:
        # list_documents: offset (and the result's old keys, kept for one release)
        page = await call(session, "list_documents", path="old", file_type="markdown", offset=1, limit=1)
        assert [d["path"] for d in page["documents"]] == ["old/n1.md"]
        assert page["start"] == page["offset"] == 1 and page["next_start"] == page["next_offset"] == 2

        # insert_text: text
        edit = await call(session, "insert_text", path="old/notes.txt", text="well, ", position=0)
        assert edit["length"] == len("well, hello\n")
        await people.wait_for(lambda: str(people.text) == "well, hello\n", what="the insert made with text=")

        # insert_notebook_cell and move_notebook_cell: position
        inserted = await call(session, "insert_notebook_cell", path="old/nb.ipynb", content="c = 3", position=0)
        assert inserted["index"] == 0
        await viewer.wait_for(lambda: str(viewer.notebook.ycells[0]["source"]) == "c = 3", what="the inserted cell")
        moved = await call(session, "move_notebook_cell", path="old/nb.ipynb", cell_id=inserted["cell_id"], position=2)
        assert moved["index"] == 2
        await viewer.wait_for(lambda: str(viewer.notebook.ycells[2]["source"]) == "c = 3", what="the moved cell")

        # update_cursor_position: document_path and position
        cursor = await call(
            session, "update_cursor_position", document_path="old/notes.txt", position={"line": 0, "column": 4}
        )
        assert (cursor["path"], cursor["document_path"], cursor["line"], cursor["column"]) == (
            "old/notes.txt", "old/notes.txt", 0, 4,
        )
        await people.wait_for(lambda: any(s.get("cursors") for s in people.others().values()), what="the cursor")

        # the other awareness tools: document_path
        online = await call(session, "get_online_users", document_path="old/notes.txt")
        assert online["path"] == "old/notes.txt" and any(u["is_agent"] for u in online["users"])
        agent_id = next(u["user_id"] for u in online["users"] if u["is_agent"])
        presence = await call(session, "get_user_presence", user_id=agent_id, document_path="old/notes.txt")
        assert presence["path"] == "old/notes.txt" and presence["documents"] == ["old/notes.txt"]
        sessions = await call(session, "get_active_sessions", document_path="old/nb.ipynb")
        assert [s["path"] for s in sessions["sessions"]] == ["old/nb.ipynb"]
        cursors = await call(session, "get_user_cursors", document_path="old/notes.txt")
        assert [(c["line"], c["column"]) for c in cursors["cursors"] if c["is_agent"]] == [(0, 4)]
        announced = await call(
            session, "broadcast_user_activity", activity_type="review", description="reading", document_path="old/nb.ipynb"
        )
        assert announced["path"] == "old/nb.ipynb"
        activity = await call(session, "get_user_activity", document_path="old/nb.ipynb")
        assert activity["path"] == "old/nb.ipynb"
        assert any(e["activity_type"] == "review" for e in activity["entries"]), activity
        assert {e["path"] for e in activity["entries"]} == {"old/nb.ipynb"}
        # The host checks an old-named path as it checks a new one, before the tool runs.
        assert "leaves the server root" in await call_error(session, "get_user_activity", document_path="../x")
    assert not collab_server.tracebacks()


async def test_old_and_new_name_with_different_values_is_refused(collab_server):
    (collab_server.root / "both.txt").write_text("same\n")
    async with connect(collab_server) as session, join_room(collab_server, "both.txt", kind="file") as people:
        error = await call_error(session, "insert_text", path="both.txt", content="A", text="B", position=0)
        assert "'text' is the old name of 'content'" in error and "give only 'content'" in error
        error = await call_error(
            session, "get_user_cursors", path="both.txt", document_path="elsewhere.txt"
        )
        assert "'document_path' is the old name of 'path'" in error
        # The same value under both names is no contradiction.
        await call(session, "insert_text", path="both.txt", content="A", text="A", position=0)
        await people.wait_for(lambda: str(people.text) == "Asame\n", what="the one insert")
    assert not collab_server.tracebacks()
