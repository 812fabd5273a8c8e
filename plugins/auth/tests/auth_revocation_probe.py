"""A revocation callable the tests configure by import name (``c.JWTAuth.revocation_check``)."""

from __future__ import annotations

from typing import Any


async def is_revoked(jti: str, claims: dict[str, Any]) -> bool:
    return jti.startswith("revoked-")
