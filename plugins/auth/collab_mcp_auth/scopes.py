"""Permissions of token identities (JWT), from their scopes.

A scope is a permission level, optionally limited to a folder:

- ``read``, ``write``, ``execute``, ``admin``: on every path;
- ``write:notebooks/``: only on ``notebooks`` and what is under it.

``admin`` grants everything; ``write`` and ``execute`` each include ``read``
(editing or running a document needs reading it). A call that names no path
(listing the root, running code without a notebook) needs an unlimited scope:
a folder-limited identity must name a path inside its folder. Paths are
normalized with the server's own rules before they are compared, so
``notebooks/../secret.txt`` is not inside ``notebooks/``.

``tools/list`` offers a token identity the tools whose permission one of its
scopes holds (folder-limited or not). Identities whose scopes are None
(Jupyter's) are left to Jupyter's Authorizer.
Unknown scopes (``openid``, ``profile``...) grant nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collab_mcp_core import ToolError, hookimpl

IMPLIED = {
    "read": {"read"},
    "write": {"write", "read"},
    "execute": {"execute", "read"},
    "admin": {"read", "write", "execute", "admin"},
}


@dataclass(frozen=True)
class Grant:
    """One parsed scope: the permissions it gives, and the folder it is limited to (None: everywhere)."""

    permissions: frozenset[str]
    folder: str | None

    def covers(self, permission: str, path: str | None) -> bool:
        if permission not in self.permissions:
            return False
        if self.folder is None:
            return True
        return path is not None and (path == self.folder or path.startswith(self.folder + "/"))


def parse_scope(scope: str) -> Grant | None:
    level, sep, folder = scope.partition(":")
    if level not in IMPLIED:
        return None
    if not sep:
        return Grant(frozenset(IMPLIED[level]), None)
    folder = folder.strip("/")
    if not folder or ".." in folder.split("/"):
        return None  # an empty or escaping folder grants nothing rather than everything
    return Grant(frozenset(IMPLIED[level]), folder)


def _grants(identity: Any) -> list[Grant]:
    return [g for g in map(parse_scope, identity.scopes) if g is not None]


@hookimpl
def tool_visible(identity: Any, tool: Any, host: Any) -> bool | None:
    if identity.scopes is None:
        return None  # a Jupyter identity: the Authorizer decides
    # Listed when some scope holds the permission, in a folder or everywhere.
    return any(tool.permission in g.permissions for g in _grants(identity))


@hookimpl
def authorize(identity: Any, permission: str, path: str | None, tool: str, host: Any) -> bool | None:
    if identity.scopes is None:
        return None  # a Jupyter identity: the Authorizer decides
    grants = _grants(identity)
    if any(g.folder is None and permission in g.permissions for g in grants):
        return True  # unlimited: the tool itself refuses paths outside the root
    if path is None:
        return False
    try:
        clean = host.backend.normalize_path(path)
    except ToolError:
        return False  # a path that cannot be normalized is inside no folder
    return any(g.covers(permission, clean) for g in grants)
