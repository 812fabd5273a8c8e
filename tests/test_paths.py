"""Path safety in the backend: what stays inside the server root (pure logic on a real folder)."""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace

import pytest

from collab_mcp_core import InvalidArgument, ToolError
from collab_mcp_core.backend import LocalBackend


@pytest.fixture
def tree(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "a.txt").write_text("in")
    (outside / "b.txt").write_text("out")
    os.symlink(outside, root / "away")  # a folder link leading out
    os.symlink(root / "sub", root / "alias")  # a folder link staying in
    os.symlink(outside / "gone.txt", root / "dangling.txt")  # a link out to nothing
    contents = SimpleNamespace(root_dir=str(root), allow_hidden=False)
    backend = LocalBackend(SimpleNamespace(contents_manager=contents, log=logging.getLogger("test_paths")))
    return backend


@pytest.mark.parametrize("path", ["sub/a.txt", "./sub//a.txt", "alias/a.txt", "sub/new.txt", "missing/deeper/x.txt", ""])
def test_paths_inside_the_root_are_accepted(tree, path):
    assert tree.normalize_path(path) == "/".join(p for p in path.split("/") if p not in ("", "."))


@pytest.mark.parametrize("path", ["away/b.txt", "away", "away/new.txt", "dangling.txt", "alias/../away/b.txt"])
def test_links_out_of_the_root_are_refused(tree, path):
    with pytest.raises(ToolError, match="outside the server root|leaves the server root"):
        tree.normalize_path(path)


@pytest.mark.parametrize(
    ("path", "real"), [("sub/a.txt", "sub/a.txt"), ("alias/a.txt", "sub/a.txt"), ("alias", "sub"), ("sub/new.txt", "sub/new.txt"), ("", "")]
)
def test_real_path_follows_links_inside_the_root(tree, path, real):
    assert tree.real_path(tree.normalize_path(path)) == real


@pytest.mark.parametrize("path", ["a\x00.ipynb", "sub/a%00.txt", "sub/\x1b[31m.txt", "a\x7f", "line\nbreak.txt"])
def test_control_characters_are_an_invalid_argument(tree, path):
    with pytest.raises(InvalidArgument, match="control characters"):
        tree.normalize_path(path)
