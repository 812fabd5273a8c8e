"""Forks: edited apart from the original, merged back as a CRDT, visible to JupyterLab's fork API."""

from __future__ import annotations

import asyncio
import json

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from collab_mcp_core.testing import call, call_error, connect, join_room


async def rest_forks(server, root_room_id: str) -> dict:
    """What JupyterLab's fork listing (GET /api/collaboration/fork/<room>) returns."""
    answer = await AsyncHTTPClient().fetch(
        HTTPRequest(server.url + f"api/collaboration/fork/{root_room_id}", headers=server.headers)
    )
    return json.loads(answer.body)


async def test_fork_edit_concurrently_and_merge(collab_server) -> None:
    path = "forked.md"
    original = "# Plan ✓\n\nfirst paragraph\n\nlast paragraph 🎉\n"
    (collab_server.root / path).write_text(original, encoding="utf-8")
    async with connect(collab_server) as mcp, join_room(collab_server, path, kind="file") as human:
        await human.wait_for(lambda: str(human.text) == original, what="the file")
        fork = await call(mcp, "fork_document", path=path, title="agent draft", description="rewrite the end")
        fork_id = fork["fork_id"]
        assert fork["root_room_id"] == human.room_id and fork["length"] == len(original)
        listed = await call(mcp, "list_document_forks", path=path)
        assert [f["fork_id"] for f in listed["forks"]] == [fork_id] and listed["forks"][0]["title"] == "agent draft"
        assert fork_id in await rest_forks(collab_server, human.room_id)  # JupyterLab sees it

        # The agent edits the fork while the person edits the original, at the same time.
        async def agent_on_fork() -> None:
            at = original.index("last")
            await call(mcp, "update_document", path=path, fork_id=fork_id, content="final", position=at, length=4)
            await call(mcp, "insert_text", path=path, fork_id=fork_id, content="agent note ü\n", position=-1)

        async def human_on_original() -> None:
            for ch in "Intro 🙂 ":
                human.text.insert(len("# Plan ✓\n\n".encode()), ch)  # pycrdt offsets are bytes
                await asyncio.sleep(0.01)

        await asyncio.gather(agent_on_fork(), human_on_original())
        human_text = "# Plan ✓\n\n" + "Intro 🙂 "[::-1] + "first paragraph\n\nlast paragraph 🎉\n"
        await human.wait_for(lambda: str(human.text) == human_text, what="the person's own typing")
        in_fork = await call(mcp, "get_document", path=path, fork_id=fork_id)
        assert in_fork["content"] == "# Plan ✓\n\nfirst paragraph\n\nfinal paragraph 🎉\nagent note ü\n"
        assert (await call(mcp, "get_document", path=path))["content"] == human_text  # fork edits stay apart

        merged = await call(mcp, "merge_document_fork", path=path, fork_id=fork_id)
        expected = "# Plan ✓\n\n" + "Intro 🙂 "[::-1] + "first paragraph\n\nfinal paragraph 🎉\nagent note ü\n"
        assert merged["merged"] and merged["length"] == len(expected)
        await human.wait_for(lambda: str(human.text) == expected, what="the merge")
        assert str(human.text).count("agent note") == 1 and str(human.text).count("first paragraph") == 1
        assert (await call(mcp, "list_document_forks", path=path))["forks"] == []
        assert fork_id not in await rest_forks(collab_server, human.room_id)
        assert "No fork" in await call_error(mcp, "get_document", path=path, fork_id=fork_id)


async def test_discard_and_synchronize(collab_server) -> None:
    path = "sync.txt"
    (collab_server.root / path).write_text("base ✓\n", encoding="utf-8")
    async with connect(collab_server) as mcp:
        dropped = await call(mcp, "fork_document", path=path)
        await call(mcp, "insert_text", path=path, fork_id=dropped["fork_id"], content="never merged\n", position=0)
        await call(mcp, "discard_document_fork", path=path, fork_id=dropped["fork_id"])
        assert (await call(mcp, "get_document", path=path))["content"] == "base ✓\n"

        following = await call(mcp, "fork_document", path=path, synchronize=True)
        await call(mcp, "insert_text", path=path, content="later in the original\n", position=-1)
        in_fork = await call(mcp, "get_document", path=path, fork_id=following["fork_id"])
        assert in_fork["content"] == "base ✓\nlater in the original\n"
        merged = await call(mcp, "merge_document_fork", path=path, fork_id=following["fork_id"])
        assert (await call(mcp, "get_document", path=path))["content"] == "base ✓\nlater in the original\n"
        assert merged["characters_added"] == 0


async def test_forks_made_in_jupyterlab_work_with_the_tools(collab_server) -> None:
    path = "labfork.txt"
    (collab_server.root / path).write_text("from the lab\n", encoding="utf-8")
    async with connect(collab_server) as mcp:
        session = await call(mcp, "create_document_session", path=path)
        answer = await AsyncHTTPClient().fetch(HTTPRequest(
            collab_server.url + f"api/collaboration/fork/{session['room_id']}", method="PUT",
            body=json.dumps({"title": "lab fork", "synchronize": False}), headers=collab_server.headers,
        ))
        fork_id = json.loads(answer.body)["fork_roomid"]
        listed = await call(mcp, "list_document_forks", path=path)
        assert [f["title"] for f in listed["forks"]] == ["lab fork"]
        await call(mcp, "insert_text", path=path, fork_id=fork_id, content="edited by the agent ✓\n", position=-1)
        await call(mcp, "merge_document_fork", path=path, fork_id=fork_id)
        assert (await call(mcp, "get_document", path=path))["content"] == "from the lab\nedited by the agent ✓\n"


async def test_notebook_fork(collab_server) -> None:
    path = "forknb.ipynb"
    async with connect(collab_server) as mcp:
        await call(mcp, "create_document_session", path=path, create=True)
        fork = await call(mcp, "fork_document", path=path)
        async with join_room(collab_server, path, kind="notebook") as human:
            await human.wait_for(lambda: len(human.notebook.ycells) == 1, what="the notebook")
            human.notebook.append_cell({"cell_type": "markdown", "source": "# by a person", "metadata": {}})
            await asyncio.sleep(0.3)
            in_fork = json.loads((await call(mcp, "get_document", path=path, fork_id=fork["fork_id"]))["content"])
            assert len(in_fork["cells"]) == 1  # the fork does not follow the original
            await call(mcp, "merge_document_fork", path=path, fork_id=fork["fork_id"])
            await asyncio.sleep(0.3)
            assert len(human.notebook.ycells) == 2  # merging an unchanged fork changes nothing


async def test_fork_bad_input_changes_nothing(collab_server) -> None:
    (collab_server.root / "a.txt").write_text("A", encoding="utf-8")
    (collab_server.root / "b.txt").write_text("B", encoding="utf-8")
    async with connect(collab_server) as mcp:
        fork = await call(mcp, "fork_document", path="a.txt")
        await call(mcp, "insert_text", path="a.txt", fork_id=fork["fork_id"], content="from a's fork", position=0)
        error = await call_error(mcp, "merge_document_fork", path="b.txt", fork_id=fork["fork_id"])
        assert "not of 'b.txt'" in error
        assert (await call(mcp, "get_document", path="b.txt"))["content"] == "B"
        assert "No fork" in await call_error(mcp, "merge_document_fork", path="a.txt", fork_id="unknown")
        assert "No fork" in await call_error(mcp, "discard_document_fork", path="a.txt", fork_id="unknown")
        assert "No document" in await call_error(mcp, "fork_document", path="missing.txt")
        assert (await call(mcp, "get_document", path="a.txt"))["content"] == "A"
        assert [f["fork_id"] for f in (await call(mcp, "list_document_forks", path="a.txt"))["forks"]] == [fork["fork_id"]]


async def test_a_fork_with_edits_survives_a_restart_and_discarding_it_removes_its_data(tmp_path) -> None:
    import sqlite3

    from collab_mcp_core.testing import start_server

    path = "draft.md"
    server = await asyncio.to_thread(start_server, tmp_path)
    try:
        (server.root / path).write_text("original ✓\n", encoding="utf-8")
        async with connect(server) as mcp:
            fork = await call(mcp, "fork_document", path=path, title="kept", description="across a restart")
            fork_id, root_room = fork["fork_id"], fork["root_room_id"]
            await call(mcp, "insert_text", path=path, fork_id=fork_id, content="fork edit 🎉\n", position=-1)
        made_in_lab = await AsyncHTTPClient().fetch(  # a fork JupyterLab makes through the REST API
            HTTPRequest(server.url + f"api/collaboration/fork/{root_room}", method="PUT",
                        body=json.dumps({"title": "from lab"}), headers=server.headers)
        )
        lab_fork = json.loads(made_in_lab.body)["fork_roomid"]
        async with connect(server) as mcp:
            follower = (await call(mcp, "fork_document", path=path, title="follows", synchronize=True))["fork_id"]
        server.process.kill()  # not even a clean stop
        server.process.wait(10)

        server = await asyncio.to_thread(start_server, tmp_path)
        async with connect(server) as mcp:
            listed = await call(mcp, "list_document_forks", path=path)
            found = sorted((f["title"], f["fork_id"], f["open"]) for f in listed["forks"])
            assert found == [("follows", follower, True), ("from lab", lab_fork, True), ("kept", fork_id, True)]
            assert set(await rest_forks(server, root_room)) == {fork_id, lab_fork, follower}  # JupyterLab's too
            content = (await call(mcp, "get_document", path=path, fork_id=fork_id))["content"]
            assert content == "original ✓\nfork edit 🎉\n"
            assert (await call(mcp, "get_document", path=path))["content"] == "original ✓\n"
            # The synchronized fork follows its document again once the document's room is open.
            async with join_room(server, path, kind="file") as human:
                await human.wait_for(lambda: str(human.text) == "original ✓\n", what="the file")
                human.text.insert(0, "typed after the restart\n")
                deadline = asyncio.get_running_loop().time() + 10
                while "typed after" not in (await call(mcp, "get_document", path=path, fork_id=follower))["content"]:
                    assert asyncio.get_running_loop().time() < deadline, "the synchronized fork did not follow"
                    await asyncio.sleep(0.1)
            for fid in (fork_id, follower):
                await call(mcp, "discard_document_fork", path=path, fork_id=fid)
            await AsyncHTTPClient().fetch(  # and JupyterLab's way of dropping one
                HTTPRequest(server.url + f"api/collaboration/fork/{lab_fork}?merge=false", method="DELETE",
                            headers=server.headers)
            )
        store = server.data_dir / "collab_mcp" / "collab_mcp_forks.db"
        with sqlite3.connect(store) as db:
            assert db.execute("SELECT count(*) FROM forks").fetchone()[0] == 0
            assert db.execute("SELECT count(*) FROM fork_updates").fetchone()[0] == 0
    finally:
        await asyncio.to_thread(server.stop)
