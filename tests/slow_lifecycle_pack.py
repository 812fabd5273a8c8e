"""A pack the health tests load with ``--CollabMCP.extra_packs=slow_lifecycle_pack``.

Its start and stop take ``SLOW_LIFECYCLE_SECONDS`` each, so a test can see the
host while it starts and while it stops.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from collab_mcp_core import hookimpl


def _seconds() -> float:
    return float(os.environ.get("SLOW_LIFECYCLE_SECONDS", "0"))


@hookimpl
async def host_started(host: Any) -> None:
    await asyncio.sleep(_seconds())


@hookimpl
async def host_stopping(host: Any) -> None:
    await asyncio.sleep(_seconds())
