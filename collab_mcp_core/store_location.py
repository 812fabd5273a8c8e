"""Where local rooms keep their history: one update store under the server's data directory.

jupyter-server-ydoc builds a room's update store in two ways: rooms opened by a
browser get the server's config (``c.SQLiteYStore.db_path`` applies), rooms
opened with ``get_document(create=True)`` (agents) get no config and write
``.jupyter_ystore.db`` in the process's working directory. :func:`bind_update_store`
makes both use the config and, unless the operator set ``SQLiteYStore.db_path``,
points it at the data directory.
"""

from __future__ import annotations

import os
from typing import Any

from .update_store import BatchedWrites

STATE_FOLDER = "collab_mcp"  # under the server's data directory: the update store, file records, forks
STORE_FILE = os.path.join(STATE_FOLDER, "jupyter_ystore.db")


def bind_update_store(ext: Any, data_dir: str) -> None:
    """Give the jupyter-server-ydoc extension ``ext`` a store class always built with the server's config
    (SQLite stores also write in batches, :mod:`.update_store`). Idempotent."""
    base = ext.ystore_class
    if getattr(base, "_collab_mcp_configured", False):
        return
    config = ext.config  # the Config object the websocket handlers' store factory holds too
    sqlite = hasattr(base, "db_path")
    if sqlite and not any("db_path" in (config.get(cls.__name__) or {}) for cls in base.__mro__):
        db_path = os.path.join(data_dir, STORE_FILE)
        os.makedirs(os.path.dirname(db_path), exist_ok=True)
        config.SQLiteYStore.db_path = db_path
    bases = (BatchedWrites, base) if sqlite else (base,)

    class ConfiguredYStore(*bases):  # type: ignore[misc, valid-type]
        """The server's store class, always built with the server's config."""

        _collab_mcp_configured = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("config", config)
            super().__init__(*args, **kwargs)

    ext.ystore_class = ConfiguredYStore


def update_store_path(ext: Any) -> str | None:
    """The database file new rooms of ``ext`` keep their history in (None if not SQLite)."""
    try:
        db_path = getattr(ext.ystore_class(path="collab-mcp-probe"), "db_path", None)
    except Exception:
        return None
    return os.path.abspath(db_path) if db_path else None
