"""Where document history lives: the collaboration update store (YStore).

jupyter-server-ydoc builds a room's store in two places. Rooms opened by a
browser's websocket get ``partial(ystore_class, config=...)``, so
``c.SQLiteYStore.db_path`` applies; rooms opened through ``get_document(create=True)``
(the path agents use) call ``ystore_class(path=..., log=...)`` with no config, so
their history lands in ``.jupyter_ystore.db`` in the process's working directory.
Two rooms of one file could then keep history in two databases, and it moves
whenever the server is started from another folder.

:func:`bind_store_to_server_config` fixes both from inside the pack: unless the
operator set ``SQLiteYStore.db_path``, it points it at the server's data
directory (in the Config object the websocket handlers already hold), and it
swaps the extension's store class for a subclass that passes that config along
on the ``get_document`` path too.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from .config import DocumentPack

log = logging.getLogger(__name__)


def bind_store_to_server_config(host: Any) -> str | None:
    """Make every room's store use the server's config; return the store's database path."""
    ext = host.backend.settings.get("jupyter_server_ydoc")
    if ext is None:
        return None
    settings = host.configurable(DocumentPack)
    base = ext.ystore_class
    if getattr(base, "_collab_mcp_configured", False):
        return _db_path(ext)
    config = ext.config  # the same Config object the websocket handlers' store factory holds
    if hasattr(base, "db_path"):  # an SQLite store (the default)
        configured = any("db_path" in (config.get(cls.__name__) or {}) for cls in base.__mro__)
        if not configured and settings.store_history_under_data_dir:
            db_path = os.path.join(host.backend.serverapp.data_dir, settings.store_file_name)
            os.makedirs(os.path.dirname(db_path), exist_ok=True)
            config.SQLiteYStore.db_path = db_path

    class ConfiguredYStore(base):  # type: ignore[misc, valid-type]
        """The server's store class, always built with the server's config."""

        _collab_mcp_configured = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("config", config)
            super().__init__(*args, **kwargs)

    ext.ystore_class = ConfiguredYStore
    path = _db_path(ext)
    log.info("collab-mcp document history is stored in %s", path)
    return path


def _db_path(ext: Any) -> str | None:
    """The database path a new store would use, absolute."""
    try:
        store = ext.ystore_class(path="collab-mcp-probe")
    except Exception:
        return None
    db_path = getattr(store, "db_path", None)
    return os.path.abspath(db_path) if db_path else None
