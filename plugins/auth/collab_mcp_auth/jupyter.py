"""The default identity: whoever Jupyter's own authentication says is calling.

Jupyter checks the server token (``Authorization: token T`` or ``Bearer T``)
or the login cookie; this pack turns the Jupyter user it found into an
:class:`~collab_mcp_core.Identity`. A server running with authentication off
(an empty token) gives anonymous users; those are refused unless the operator
says otherwise (``c.JupyterAuth.allow_anonymous = True``), so the MCP endpoint
fails closed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from traitlets import Bool, Unicode
from traitlets.config import Configurable

from collab_mcp_core import Identity, hookimpl

# Providers that turn the server token into a made-up anonymous user (custom
# providers, such as JupyterHub's, name real users and are trusted as they are).
DEFAULT_PROVIDERS = (IdentityProvider, PasswordIdentityProvider)


class JupyterAuth(Configurable):
    """Settings of the Jupyter identity provider."""

    allow_anonymous = Bool(
        False,
        help="Accept MCP requests when the Jupyter server itself runs without authentication "
        "(an empty token). Off by default: the MCP endpoint then refuses everyone.",
    ).tag(config=True)
    token_display_name = Unicode(
        "MCP agent", help="Display name of callers who authenticate with the server token."
    ).tag(config=True)


@hookimpl
def register_configurables(register: Any) -> None:
    register(JupyterAuth)


@hookimpl(trylast=True)
def identify_request(request: Any, host: Any) -> Identity | None:
    user = request.current_user
    if user is None:
        return None
    settings = host.config(JupyterAuth)
    provider = request.identity_provider
    if not provider.auth_enabled and not settings.allow_anonymous:
        return None
    if type(provider) in DEFAULT_PROVIDERS and not provider.auth_enabled:
        # No authentication at all: Jupyter invents a new anonymous user per
        # cookieless request, which would orphan every MCP session after its
        # first request. Everyone is the same anonymous caller anyway.
        return Identity(
            username="anonymous",
            display_name=settings.token_display_name,
            initials="AI",
            provider="jupyter-anonymous",
            jupyter_user=user,
        )
    if type(provider) in DEFAULT_PROVIDERS and request.token_authenticated:
        # Jupyter's default providers invent a random anonymous user per request
        # that carries the token but no cookie (most MCP clients keep no
        # cookies); an MCP session must keep one identity, so token callers get
        # a stable one derived from the token.
        digest = hashlib.sha256(provider.token.encode()).hexdigest()[:10]
        return Identity(
            username=f"token-{digest}",
            display_name=settings.token_display_name,
            initials="AI",
            provider="jupyter-token",
            jupyter_user=user,
        )
    return Identity(
        username=user.username,
        display_name=user.display_name or user.name or user.username,
        initials=user.initials or "",
        color=user.color,
        avatar_url=user.avatar_url,
        provider="jupyter",
        scopes=None,  # Jupyter's Authorizer decides
        jupyter_user=user,
    )
