"""What an agent is called in JupyterLab, and its colour.

The name comes from the MCP client (``clientInfo.title`` or ``name`` from the
``initialize`` request, or from a 2026-07-28 request's ``_meta``) and the user:
"Claude Code (alice)". Callers with the server token or no authentication are
no person, so they are named after the client alone. Each MCP session gets its
own colour, one no other agent on the server shows, while the palette lasts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

# JupyterLab's collaborator palette, as hex.
PALETTE = ("#ffad8e", "#dac83d", "#72dd76", "#00e4d0", "#45d4ff", "#e2b1ff", "#ff9de6", "#ff8a80")
# Identities that stand for the server token or for no authentication, not for a person.
NO_PERSON = ("jupyter-token", "jupyter-anonymous")


def client_label(ctx: Any) -> str | None:
    """The MCP client's name as it gave it (title first), or None when it gave none."""
    request = getattr(ctx, "request_context", None)
    params = request.session.client_params if request is not None else None
    info = params.client_info if params is not None else None
    if info is None:
        return None
    label = (getattr(info, "title", None) or info.name or "").strip()
    return label[:60] or None


def agent_name(client: str | None, identity: Any) -> str:
    """'Claude Code (alice)'; the identity's own name when the client gave none."""
    if client is None:
        return identity.name
    if identity.provider in NO_PERSON or identity.name == client:
        return client
    return f"{client} ({identity.name})"


def initials_of(name: str) -> str:
    """Two letters for the collaborator icon: 'Claude Code (alice)' -> 'CC'."""
    words = [w for w in name.split("(")[0].split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "AI"


def pick_colour(key: str, preferred: str | None, taken: Iterable[str]) -> str:
    """A colour for one agent: the identity's own if no other agent shows it, else a free palette colour."""
    taken = set(taken)
    if preferred and preferred not in taken:
        return preferred
    start = int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(PALETTE)
    for i in range(len(PALETTE)):
        colour = PALETTE[(start + i) % len(PALETTE)]
        if colour not in taken:
            return colour
    return PALETTE[start]  # more agents than colours: some share
