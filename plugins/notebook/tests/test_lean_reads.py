"""Outline reads, and reading back outputs the output budget left out (read_cell_output)."""

from __future__ import annotations

import asyncio
import base64
import json

from collab_mcp_core.testing import call, call_error, connect, join_room
from collab_mcp_notebook.testing import cells_of, write_notebook

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()


def sample_cells() -> list[dict]:
    return [
        {"cell_type": "markdown", "source": "# Title\nintro text"},
        {"source": "print('hi')", "execution_count": 1,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "x" * 1500}]},
        {"source": "1/0", "execution_count": 2,
         "outputs": [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
                      "traceback": ["\x1b[31mZeroDivisionError\x1b[0m: division by zero"]}]},
        {"source": "plot()", "execution_count": 3,
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"image/png": PNG, "text/plain": "<Figure>"}}]},
    ]


async def test_outline_is_one_line_per_cell(collab_server):
    path = write_notebook(collab_server.root, "outline.ipynb", sample_cells())
    async with connect(collab_server) as mcp:
        full = await call(mcp, "get_notebook", path=path)
        ids = [c["cell_id"] for c in full["cells"]]
        outline = await call(mcp, "get_notebook", path=path, view="outline")
        assert outline["cells"] == [] and outline["cell_count"] == 4
        assert outline["document_version"] == full["document_version"]
        lines = outline["outline"].split("\n")
        assert lines == [
            f"0 {ids[0]} markdown # Title… (2 lines)",
            f"1 {ids[1]} [1] print('hi') → stdout 1.5k",
            f"2 {ids[2]} [2] 1/0 → error ZeroDivisionError",
            f"3 {ids[3]} [3] plot() → image/png + text 8",
        ]
        no_outputs = await call(mcp, "get_notebook", path=path, view="outline", include_outputs=False)
        assert no_outputs["outline"].split("\n")[1] == f"1 {ids[1]} [1] print('hi')"
        # Source-only full reads leave outputs out.
        lean = await call(mcp, "get_notebook", path=path, include_outputs=False)
        assert all("outputs" not in c for c in lean["cells"])
        err = await call_error(mcp, "get_notebook", path=path, view="summary")
        assert "view" in err and "outline" in err


async def test_outline_of_a_thousand_cells_is_a_fraction_of_the_full_read(collab_server):
    cells = [
        {"source": f"x_{i} = {i} * 2\nprint(x_{i})", "execution_count": i + 1,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": f"{i * 2}\n"}]}
        for i in range(1000)
    ]
    path = write_notebook(collab_server.root, "thousand.ipynb", cells)
    async with connect(collab_server) as mcp:
        full = await mcp.call_tool("get_notebook", {"path": path, "limit": 1000})
        outline = await mcp.call_tool("get_notebook", {"path": path, "limit": 1000, "view": "outline"})
        full_bytes = len(json.dumps(full.structured_content)) + len(full.content[0].text)
        outline_bytes = len(json.dumps(outline.structured_content)) + len(outline.content[0].text)
        text = outline.structured_content["outline"]
        assert text.count("\n") == 999 and len(text.encode()) < 70 * 1000  # under 70 bytes a cell
        assert outline_bytes * 2.5 < full_bytes, (outline_bytes, full_bytes)


async def test_a_long_output_left_out_of_a_run_reads_back_page_by_page(collab_server):
    code = "for i in range(50000):\n    print(f'line {i}')"
    expected = "".join(f"line {i}\n" for i in range(50000))
    path = write_notebook(collab_server.root, "long_output.ipynb", [{"source": code}])
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        cell_id = cells_of(ada)[0]["id"]
        run = await call(mcp, "execute_notebook_cell", path=path, cell_id=cell_id, timeout=120)
        assert run["status"] == "ok"
        assert len(run["outputs"][0]["text"]) < 5000 and "read_cell_output" in run["outputs"][0]["note"]
        pages, start = [], 0
        while start is not None:
            page = await call(mcp, "read_cell_output", path=path, cell_id=cell_id, output_index=0, start=start)
            assert page["total_chars"] == len(expected) and page["output_type"] == "stream"
            pages.append(page["text"])
            start = page.get("next_start")
        assert len(pages) > 2 and "".join(pages) == expected
        small = await call(mcp, "read_cell_output", path=path, cell_id=cell_id, output_index=-1, start=7, limit=10)
        assert small["text"] == expected[7:17] and small["next_start"] == 17


async def test_read_cell_output_returns_images_and_tracebacks(collab_server):
    path = write_notebook(collab_server.root, "rich.ipynb", sample_cells())
    async with connect(collab_server) as mcp:
        ids = [c["cell_id"] for c in (await call(mcp, "get_notebook", path=path))["cells"]]
        image = await mcp.call_tool("read_cell_output", {"path": path, "cell_id": ids[3], "output_index": 0,
                                                         "mime_type": "image/png"})
        assert not image.is_error and image.content[1].type == "image" and image.content[1].data == PNG
        assert "text" not in image.structured_content  # the image is content, once
        text = await call(mcp, "read_cell_output", path=path, cell_id=ids[3], output_index=0)
        assert text["mime_type"] == "text/plain" and text["text"] == "<Figure>"
        assert text["mime_types"] == ["image/png", "text/plain"]
        error = await call(mcp, "read_cell_output", path=path, cell_id=ids[2], output_index=0)
        assert error["text"] == "ZeroDivisionError: division by zero"  # ANSI escapes removed


async def test_read_cell_output_bad_input(collab_server):
    path = write_notebook(collab_server.root, "rich_bad.ipynb", sample_cells())
    async with connect(collab_server) as mcp, join_room(collab_server, path) as ada:
        before = cells_of(ada)
        ids = [c["id"] for c in before]
        cases = [
            ({"cell_id": "nope", "output_index": 0}, "No cell with id 'nope'"),
            ({"cell_id": ids[0], "output_index": 0}, "only code cells have outputs"),
            ({"cell_id": ids[1], "output_index": 3}, "output_index 3 is out of range for cell"),
            ({"cell_id": ids[1], "output_index": 0, "start": 10**6}, "past the end"),
            ({"cell_id": ids[1], "output_index": 0, "limit": 10**7}, "at most"),
            ({"cell_id": ids[1], "output_index": 0, "mime_type": "image/png"}, "stream output has no MIME types"),
            ({"cell_id": ids[3], "output_index": 0, "mime_type": "text/html"}, "has no 'text/html'"),
            ({"cell_id": ids[1], "output_index": "first"}, "output_index"),
        ]
        for args, expected in cases:
            err = await call_error(mcp, "read_cell_output", path=path, **args)
            assert expected in err, (args, err)
        err = await call_error(mcp, "read_cell_output", path="../x.ipynb", cell_id=ids[1], output_index=0)
        assert "leaves the server root" in err
        await asyncio.sleep(0.1)
        assert cells_of(ada) == before
