"""JWT bearer tokens as MCP identities (``c.JWTAuth.enabled = True``).

A request whose ``Authorization: Bearer`` value looks like a JWT (three
base64url segments) is verified here, before the Jupyter provider sees it:
signature (secret, PEM key or JWKS), algorithm allowlist, ``exp``, ``iat``,
``nbf``, ``aud``, ``iss``, ``sub`` and revocation. A token that is present but
invalid is refused with 401; it never falls through to Jupyter's own checks.
The claims become an :class:`~collab_mcp_core.Identity` whose scopes the
``scopes`` pack enforces. Jupyter's server token is hex, not a JWT, so both
kinds of credentials work side by side.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from tornado import web
from traitlets import Bool, Float, List, TraitError, Unicode, validate
from traitlets.config import Configurable
from traitlets.utils.importstring import import_item

from collab_mcp_core import Identity, hookimpl

from .keys import HMAC_ALGORITHMS, PUBLIC_KEY_ALGORITHMS, JwksKeys, KeySource, NoKey, PemFileKey, SecretKey
from .revocation import Revocation

log = logging.getLogger(__name__)

JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Colours reach JupyterLab's CSS through awareness: only plain colour values pass.
CSS_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,20}")
REQUIRED_CLAIMS = ("exp", "iat", "aud", "iss", "sub")
PERMISSION_SCOPES = ("read", "write", "execute", "admin")


class JWTAuth(Configurable):
    """Accept JWT bearer tokens from an identity provider you trust."""

    enabled = Bool(False, help="Accept JWT bearer tokens on the MCP endpoint.").tag(config=True)
    algorithms = List(
        Unicode(),
        default_value=["RS256"],
        help="Signature algorithms accepted. One family only: HMAC (HS256...) with `secret`, or public-key "
        "(RS256, ES256, PS256, EdDSA...) with `public_key_file` or `jwks_url`. 'none' is never accepted.",
    ).tag(config=True)
    secret = Unicode(
        "", help="The shared secret of HS256/HS384/HS512 tokens: at least 32 characters (a shorter one refuses every JWT)."
    ).tag(config=True)
    public_key_file = Unicode(
        "", help="A PEM public key file for RS/PS/ES/EdDSA tokens (re-read when it changes)."
    ).tag(config=True)
    jwks_url = Unicode("", help="A JWKS URL (https:// or file://) with the issuer's public keys.").tag(config=True)
    jwks_cache_seconds = Float(300.0, help="How long a fetched JWKS is used before it is fetched again.").tag(
        config=True
    )
    jwks_min_refresh_seconds = Float(
        30.0, help="An unknown key id triggers a JWKS refetch at most this often (protects the identity provider)."
    ).tag(config=True)
    issuer = Unicode("", help="The required `iss` claim (also published as the authorization server).").tag(config=True)
    audience = List(
        Unicode(),
        default_value=[],
        help="Accepted `aud` values. Empty: this server's MCP URL as the client reached it (e.g. "
        "http://127.0.0.1:8888/mcp).",
    ).tag(config=True)
    leeway = Float(30.0, help="Clock skew tolerated on exp, nbf and iat, in seconds.").tag(config=True)
    username_claim = Unicode("sub", help="The claim that names the user.").tag(config=True)
    display_name_claim = Unicode("name", help="The claim with the user's display name.").tag(config=True)
    color_claim = Unicode("color", help="The claim with the user's colour (a CSS colour), if any.").tag(config=True)
    scopes_claim = Unicode(
        "scope",
        help="The claim with the granted scopes: a space-separated string or a list. Scopes: read, write, "
        "execute, admin, optionally limited to a folder ('write:notebooks/').",
    ).tag(config=True)
    revoked_jti_file = Unicode(
        "", help="A file of revoked token ids (`jti`), one per line; re-read when it changes."
    ).tag(config=True)
    revocation_check = Unicode(
        "", help="Import name of a callable `(jti, claims) -> bool` that returns True for revoked tokens."
    ).tag(config=True)

    @validate("algorithms")
    def _check_algorithms(self, proposal: dict[str, Any]) -> list[str]:
        algorithms = list(proposal["value"])
        check_algorithms(algorithms)
        return algorithms

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keys: KeySource | None = None
        self._revocation: Revocation | None = None

    def problems(self) -> list[str]:
        """What keeps an enabled configuration from verifying anything (empty when fine)."""
        if not self.enabled:
            return []
        found = []
        hmac = set(self.algorithms) <= HMAC_ALGORITHMS
        sources = [bool(self.secret), bool(self.public_key_file), bool(self.jwks_url)]
        if sum(sources) != 1:
            found.append("set exactly one of JWTAuth.secret, JWTAuth.public_key_file, JWTAuth.jwks_url")
        elif hmac and not self.secret:
            found.append(f"the HMAC algorithms {self.algorithms} need JWTAuth.secret")
        elif not hmac and self.secret:
            found.append(f"JWTAuth.secret is an HMAC secret but the algorithms are {self.algorithms}")
        if not self.issuer:
            found.append("JWTAuth.issuer is required")
        if hmac and len(self.secret) < 32 and self.secret:
            found.append("JWTAuth.secret must be at least 32 characters")
        if self.revocation_check:
            try:
                import_item(self.revocation_check)
            except Exception as err:
                found.append(f"JWTAuth.revocation_check {self.revocation_check!r} cannot be imported ({err})")
        return found

    def key_source(self) -> KeySource:
        if self._keys is None:
            if self.secret:
                self._keys = SecretKey(self.secret)
            elif self.public_key_file:
                self._keys = PemFileKey(self.public_key_file)
            else:
                self._keys = JwksKeys(
                    self.jwks_url,
                    cache_seconds=self.jwks_cache_seconds,
                    min_refresh_seconds=self.jwks_min_refresh_seconds,
                )
        return self._keys

    def revocation(self) -> Revocation:
        if self._revocation is None:
            self._revocation = Revocation(self.revoked_jti_file, self.revocation_check)
        return self._revocation


def check_algorithms(algorithms: list[str]) -> None:
    """Refuse an allowlist that is empty, unknown, 'none', or mixes HMAC and public-key families."""
    if not algorithms:
        raise TraitError("JWTAuth.algorithms is empty; name the algorithm your identity provider signs with")
    if any(a.lower() == "none" for a in algorithms):
        raise TraitError("JWTAuth.algorithms must not contain 'none': unsigned tokens are never accepted")
    unknown = set(algorithms) - HMAC_ALGORITHMS - PUBLIC_KEY_ALGORITHMS
    if unknown:
        valid = ", ".join(sorted(HMAC_ALGORITHMS | PUBLIC_KEY_ALGORITHMS))
        raise TraitError(f"JWTAuth.algorithms has unknown algorithms {sorted(unknown)}; valid: {valid}")
    if set(algorithms) & HMAC_ALGORITHMS and set(algorithms) & PUBLIC_KEY_ALGORITHMS:
        raise TraitError(
            f"JWTAuth.algorithms mixes HMAC and public-key algorithms ({algorithms}); that allows forging "
            "tokens with the public key as the HMAC secret. Use one family."
        )


class InvalidToken(Exception):
    """Why a JWT was refused (safe to show: never contains the token)."""


async def verify(settings: JWTAuth, token: str, audience: list[str]) -> dict[str, Any]:
    """The claims of a valid token, or InvalidToken saying what is wrong."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
        key = await settings.key_source().key_for(header)
        claims = jwt.decode(
            token,
            key,
            algorithms=list(settings.algorithms),
            audience=audience,
            issuer=settings.issuer,
            leeway=settings.leeway,
            options={"require": list(REQUIRED_CLAIMS), "strict_aud": False},
        )
    except NoKey as err:
        raise InvalidToken(str(err)) from None
    except jwt.PyJWTError as err:
        raise InvalidToken(str(err) or type(err).__name__) from None
    if not isinstance(claims.get(settings.username_claim), str) or not claims[settings.username_claim]:
        raise InvalidToken(f"the token has no {settings.username_claim!r} claim naming the user")
    revocation = settings.revocation()
    if revocation.configured:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:  # a token that could never be revoked is refused
            raise InvalidToken("the token has no 'jti' claim, which this server's revocation check requires")
        if await revocation.is_revoked(jti, claims):
            raise InvalidToken("the token has been revoked")
    return claims


def identity_from_claims(settings: JWTAuth, claims: dict[str, Any]) -> Identity:
    username = claims[settings.username_claim]
    name = claims.get(settings.display_name_claim)
    color = claims.get(settings.color_claim)
    return Identity(
        username=username,
        display_name=name[:100] if isinstance(name, str) and name.strip() else username,
        color=color if isinstance(color, str) and CSS_COLOR.fullmatch(color) else None,
        provider="jwt",
        scopes=scopes_of(claims.get(settings.scopes_claim)),
    )


def scopes_of(raw: Any) -> frozenset[str]:
    """Scopes from an OAuth ``scope`` string ("read write") or a list (``scp``, ``permissions``)."""
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(s for s in raw if isinstance(s, str))
    return frozenset()


def bearer_jwt(request: Any) -> str | None:
    """The bearer value of the request if it is shaped like a JWT."""
    scheme, _, value = request.request.headers.get("Authorization", "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not JWT_SHAPE.fullmatch(value):
        return None
    return value


def audiences(settings: JWTAuth, request: Any) -> list[str]:
    """The accepted ``aud`` values: configured, or the MCP URL the client reached."""
    if settings.audience:
        return list(settings.audience)
    if request.settings.get("allow_remote_access", False):
        # Any Host header is accepted then, so the URL the client used proves
        # nothing: a token minted for another server could name it.
        raise InvalidToken("this server accepts any Host name, so JWTAuth.audience must be configured")
    return [request.endpoint_url]


@hookimpl
def register_configurables(register: Any) -> None:
    register(JWTAuth)


@hookimpl
def host_started(host: Any) -> None:
    settings = host.config(JWTAuth)
    for problem in settings.problems():
        log.error("JWTAuth is enabled but misconfigured: %s. Every JWT will be refused.", problem)
    if settings.enabled and not settings.audience and host.backend.accepts_remote_clients():
        log.error("JWTAuth: ServerApp.allow_remote_access is on; set JWTAuth.audience or every JWT will be refused.")


@hookimpl
async def identify_request(request: Any, host: Any) -> Identity | None:
    settings = host.config(JWTAuth)
    if not settings.enabled:
        return None
    token = bearer_jwt(request)
    if token is None or request.token_authenticated:
        return None  # not a JWT (or Jupyter's own token): the Jupyter provider decides
    if settings.problems():
        raise web.HTTPError(401, "Invalid bearer token: JWT verification is misconfigured on this server")
    try:
        claims = await verify(settings, token, audiences(settings, request))
    except InvalidToken as err:
        # The reason only: neither the token nor its claims go to the log.
        log.info("JWT refused from %s: %s", request.request.remote_ip, err)
        raise web.HTTPError(401, f"Invalid bearer token: {err}") from None
    # No XSRF check applies: the host checks it only for cookie (provider "jupyter") identities.
    return identity_from_claims(settings, claims)


@hookimpl
def protected_resource_metadata(resource: str, host: Any) -> dict[str, Any] | None:
    settings = host.config(JWTAuth)
    if not settings.enabled or not settings.issuer:
        return None
    return {
        "resource": resource,
        "authorization_servers": [settings.issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": list(PERMISSION_SCOPES),
        "resource_name": "collab-mcp",
    }
