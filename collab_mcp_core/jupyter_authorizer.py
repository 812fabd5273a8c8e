"""Jupyter's own Authorizer decides when no pack does, so an operator's Jupyter policy governs MCP too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .awaiting import await_maybe

if TYPE_CHECKING:
    from .identity import Identity

# How a collab-mcp permission maps onto Jupyter's (action, resource) for its Authorizer.
JUPYTER_PERMISSIONS = {
    "read": ("read", "contents"),
    "write": ("write", "contents"),
    "execute": ("execute", "kernels"),
    "admin": ("write", "server"),
}


async def jupyter_allows(authorizer: Any, identity: Identity, permission: str, handler: Any) -> bool:
    """Whether Jupyter's ``authorizer`` lets ``identity`` have ``permission`` (a non-Jupyter identity: no)."""
    if identity.jupyter_user is None:
        return False  # a non-Jupyter identity needs a pack that decides for it
    if authorizer is None:
        return True
    action, resource = JUPYTER_PERMISSIONS[permission]
    return bool(await await_maybe(authorizer.is_authorized(handler, identity.jupyter_user, action, resource)))
