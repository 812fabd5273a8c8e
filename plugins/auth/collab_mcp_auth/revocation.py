"""Revoked JWTs, by ``jti``: a denylist file and/or a callable.

The file holds one token id per line (``#`` starts a comment) and is re-read
when its modification time or size changes, so revoking a token takes effect
on the next request without a restart. When revocation is configured, a token
without a ``jti`` cannot be checked and is refused.
"""

from __future__ import annotations

import os
from typing import Any

from traitlets.utils.importstring import import_item

from collab_mcp_core import await_maybe


class Revocation:
    def __init__(self, denylist_file: str, check: str) -> None:
        self._file = denylist_file
        self._check = import_item(check) if check else None
        self._stamp: tuple[float, int] | None = None
        self._revoked: frozenset[str] = frozenset()

    @property
    def configured(self) -> bool:
        return bool(self._file or self._check)

    async def is_revoked(self, jti: str, claims: dict[str, Any]) -> bool:
        if self._file and jti in self._denylist():
            return True
        return bool(self._check and await await_maybe(self._check(jti, claims)))

    def _denylist(self) -> frozenset[str]:
        try:
            stat = os.stat(self._file)
        except FileNotFoundError:
            return frozenset()  # nothing revoked yet
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            with open(self._file, encoding="utf-8") as f:
                lines = (line.split("#", 1)[0].strip() for line in f)
                self._revoked = frozenset(line for line in lines if line)
            self._stamp = stamp
        return self._revoked
