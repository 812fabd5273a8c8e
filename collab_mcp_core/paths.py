"""Paths a tool may name: API paths inside the server root, never its internals.

Every path a tool receives is normalized here once (by the host, before the
permission check): no absolute paths, ``..``, control characters, hidden files
(unless the ContentsManager allows them), collaboration state, or symlinks out of
the root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from urllib.parse import unquote

from .errors import InvalidArgument

# Files that hold collaboration state or server internals: never documents.
PRIVATE_NAMES = {".jupyter_ystore.db", ".ipynb_checkpoints"}


class ServerPaths:
    """The API paths of one server root (its symlinks resolved once: the root does not move while serving)."""

    def __init__(self, root_dir: str, allow_hidden: Callable[[], bool]) -> None:
        self.root_dir = os.path.realpath(root_dir)
        self.allow_hidden = allow_hidden

    def normalize(self, path: str) -> str:
        """A clean API path inside the root, or an InvalidArgument saying why not.

        Refuses control characters (a NUL byte ends a path at the OS level),
        absolute paths, ``..`` (also percent-encoded), hidden files (unless the
        ContentsManager allows them), the collaboration store and checkpoints,
        and symlinks that lead out of the root.
        """
        if not isinstance(path, str):
            raise InvalidArgument("path must be a string relative to the server root, like 'notebooks/analysis.ipynb'.")
        raw = unquote(path).replace("\\", "/").strip()
        bad = sorted({f"U+{ord(c):04X}" for c in raw if ord(c) < 0x20 or ord(c) == 0x7F})
        if bad:
            raise InvalidArgument(
                f"Path {path!r} contains control characters ({', '.join(bad)}; U+0000 is a NUL byte), "
                "which no file name here may hold. Give the path with printable characters only."
            )
        if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
            raise InvalidArgument(f"Path {path!r} is absolute; give a path relative to the server root.")
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            raise InvalidArgument(f"Path {path!r} leaves the server root ('..' is not allowed).")
        for part in parts:
            if part in PRIVATE_NAMES or part.endswith((".y", "-journal")) and part.startswith("."):
                raise InvalidArgument(f"Path {path!r} is server-internal collaboration state, not a document.")
            if part.startswith(".") and not self.allow_hidden():
                raise InvalidArgument(f"Path {path!r} is hidden; hidden files are not reachable.")
        resolved = self._through_links(parts)
        if resolved is not None and not self._inside_root(resolved):
            raise InvalidArgument(f"Path {path!r} resolves outside the server root (through a symlink).")
        return "/".join(parts)

    def real_path(self, api_path: str) -> str:
        """The API path of what a normalized ``api_path`` names once symlinks are followed.

        Permissions are checked on it too: a link inside an allowed folder may
        name a file outside that folder.
        """
        resolved = self._through_links(api_path.split("/") if api_path else [])
        if resolved is None or resolved == self.root_dir:
            return api_path if resolved is None else ""
        return os.path.relpath(resolved, self.root_dir).replace(os.sep, "/")

    def _through_links(self, parts: list[str]) -> str | None:
        """The resolved OS path of root/parts if one of its components is a symlink, else None.

        Only a symlink can lead elsewhere, so each component is looked at with one
        ``lstat``; ``realpath`` (a dozen system calls) runs only when one is a link.
        """
        current = self.root_dir
        for part in parts:
            current = os.path.join(current, part)
            try:
                is_link = stat.S_ISLNK(os.lstat(current).st_mode)
            except OSError:
                return None  # this component does not exist, so nothing below it can be a link
            if is_link:
                return os.path.realpath(os.path.join(self.root_dir, *parts))
        return None

    def _inside_root(self, os_path: str) -> bool:
        return os_path == self.root_dir or os_path.startswith(self.root_dir + os.sep)

    def os_path(self, api_path: str) -> str:
        return os.path.join(self.root_dir, *api_path.split("/")) if api_path else self.root_dir

