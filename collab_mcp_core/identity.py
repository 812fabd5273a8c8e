"""Who is calling: the identity every tool call carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Identity:
    """An authenticated caller of the MCP endpoint.

    ``username`` is the stable id (the Jupyter username for Jupyter identities).
    ``scopes`` is None when permissions are left to Jupyter's Authorizer, or a
    set of granted scopes (``read``, ``write:notebooks/``...) for token-based
    providers such as JWT. ``jupyter_user`` is the ``jupyter_server.auth.User``
    when the identity came from Jupyter, for the Authorizer.
    """

    username: str
    display_name: str = ""
    initials: str = ""
    color: str | None = None
    avatar_url: str | None = None
    provider: str = "jupyter"
    scopes: frozenset[str] | None = None
    jupyter_user: Any = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def public(self) -> dict[str, Any]:
        """What may be shown to others (events, awareness): never credentials."""
        return {
            "username": self.username,
            "display_name": self.name,
            "initials": self.initials or self.name[:2].upper(),
            "color": self.color,
            "provider": self.provider,
        }
