"""OAuth 2.0 request validation, kept apart from the views: client authentication and bearer tokens.

Client authentication follows RFC 6749 §2.3.1 (HTTP Basic, or ``client_id`` and
``client_secret`` in the form body, never both); bearer tokens follow RFC 6750.

Introspection and revocation accept either kind of caller (``authenticate_caller``):
a client authenticating with its secret (``client_secret_basic``,
``client_secret_post``: what RFC 7662 §2.1 and RFC 7009 §2.1 expect and gateways
send), or ``Authorization: <type> <JWT>`` with one of the portal's own access
tokens (the seed's way; Mobile Saúde client tokens too). Either way the caller is
described by claims, so that one rule decides what it may learn.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
from dataclasses import dataclass
from urllib.parse import unquote

import tokens
from providers import revocation
from providers.inbound import InboundError

from . import selectors
from .models import ServiceProvider, hash_client_secret

REALM = "mcg"


class ApiError(InboundError):
    """An error answered as ``{"error": ..., "error_description": ...}`` with the right status and headers.

    OAuth endpoints use RFC 6749 §5.2 / RFC 6750 §3.1 codes; /Services uses the same shape. The
    description is the error's ``message``; a challenge goes out as ``WWW-Authenticate``.
    """

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        www_authenticate: str = "",
        field_errors: dict | None = None,
        *,
        headers: dict | None = None,
    ):
        challenge = {"WWW-Authenticate": www_authenticate} if www_authenticate else {}
        super().__init__(description, status=status, headers={**(headers or {}), **challenge})
        self.error = error
        self.field_errors = field_errors

    @property
    def description(self) -> str:
        return self.message

    def __str__(self):
        return f"{self.error}: {self.description}"


def _invalid_client(description: str, scheme: str = "Basic") -> ApiError:
    return ApiError("invalid_client", description, 401, f'{scheme} realm="{REALM}"')


def client_credentials(request) -> tuple[str, str] | None:
    """The (client_id, client_secret) the request authenticates with, or None when it sends none."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    in_body = "client_id" in request.POST or "client_secret" in request.POST
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise _invalid_client("Use HTTP Basic authentication or client_id and client_secret in the body.")
        if in_body:
            raise ApiError("invalid_request", "Use only one client authentication method.")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid_client("Malformed HTTP Basic credentials.")
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise _invalid_client("Malformed HTTP Basic credentials.")
        # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
    if in_body:
        return request.POST.get("client_id", ""), request.POST.get("client_secret", "")
    return None


def authenticate_client(request) -> ServiceProvider:
    """The active service provider whose credentials the request carries; else ApiError(invalid_client)."""
    credentials = client_credentials(request)
    if credentials is None:
        raise _invalid_client("Client authentication is required.")
    return _provider_with_secret(*credentials)


def bearer_token(request, *, any_type: bool = False) -> str:
    """The token in ``Authorization: Bearer <JWT>`` (or any ``<type> <JWT>`` when ``any_type``)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        raise ApiError("invalid_request", "Authentication is required.", 401, f'Bearer realm="{REALM}"')
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if not token or (not any_type and scheme.lower() != "bearer"):
        raise _invalid_token("Send Authorization: Bearer <access token>.")
    return token


def _invalid_token(description: str) -> ApiError:
    return ApiError(
        "invalid_token",
        description,
        401,
        f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"',
    )


def verified_bearer(request, *, any_type: bool = False) -> dict:
    """The claims of the valid portal token the request carries (revocation not yet checked); else 401."""
    token = bearer_token(request, any_type=any_type)
    try:
        return selectors.verify_token(token)
    except tokens.InvalidToken:
        raise _invalid_token("The access token is invalid or expired.")


def ensure_usable(claims: dict, *, revoked: bool, scopes: set[str]) -> None:
    """401 for a revoked token, 403 for one that holds none of ``scopes``."""
    if revoked:
        raise _invalid_token("The access token has been revoked.")
    if not scopes & set(str(claims.get("scope", "")).split()):
        wanted = " ".join(sorted(scopes))
        raise ApiError(
            "insufficient_scope",
            f"The access token lacks the scope this needs ({wanted}).",
            403,
            f'Bearer realm="{REALM}", error="insufficient_scope", scope="{wanted}"',
        )


def authenticate_bearer(request, *, scopes: set[str]) -> dict:
    """The claims of the valid, unrevoked bearer token the request carries, holding one of ``scopes``."""
    claims = verified_bearer(request)
    ensure_usable(claims, revoked=selectors.revoked_jtis([claims])[claims["jti"]], scopes=scopes)
    return claims


# --- Callers of tokeninfo and revoke: a client with its secret, or a portal access token ---------------


class VerifiedSecrets:
    """Per process: the secret digest and token generation of each client whose secret checked out.

    A caller that sends the same secret again is known without a database query; a secret
    reset or a deactivation bumps the generation, which the (pushed) revocation state
    reports at once, and the next call checks against the database again.
    """

    def __init__(self, maxsize: int = 10_000):
        self.maxsize = maxsize
        self._entries: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def recall(self, client_id: str, secret: str) -> dict | None:
        entry = self._entries.get(client_id)
        if entry is None or not hmac.compare_digest(entry[0], hash_client_secret(secret)):
            return None
        return revocation.client_caller(client_id, entry[1])

    def learn(self, provider: ServiceProvider) -> dict:
        with self._lock:
            if len(self._entries) >= self.maxsize:
                self._entries.clear()
            self._entries[provider.client_id] = (provider.client_secret_hash, provider.token_generation)
        return revocation.client_caller(provider.client_id, provider.token_generation)

    def forget(self, client_id: str | None = None) -> None:
        with self._lock:
            if client_id is None:
                self._entries.clear()
            else:
                self._entries.pop(client_id, None)


verified_secrets = VerifiedSecrets()

BOTH_CHALLENGES = f'Bearer realm="{REALM}", Basic realm="{REALM}"'


def _looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2


@dataclass(frozen=True)
class Caller:
    claims: dict
    by_secret: bool = False
    # Whether the secret check came from this process's memo (checked against the database again when void).
    remembered: bool = False


def authenticate_caller(request, *, client_first: bool = False) -> Caller:
    """Who calls tokeninfo or revoke: a client with its secret, or the bearer of a valid portal token.

    A request with no credentials at all is answered with a Bearer challenge, or as a client
    authentication failure (``invalid_client``) where client authentication comes first (revoke).
    Revocation is checked by ``authorize_caller``.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    by_basic = scheme.lower() == "basic" and not _looks_like_jwt(value.strip())
    if by_basic or (not header and ("client_id" in request.POST or "client_secret" in request.POST)):
        client_id, secret = client_credentials(request)
        remembered = verified_secrets.recall(client_id, secret) if client_id and secret else None
        if remembered is not None:
            return Caller(remembered, by_secret=True, remembered=True)
        return Caller(verified_secrets.learn(_provider_with_secret(client_id, secret)), by_secret=True)
    if not header:
        if client_first:
            raise _invalid_client("Client authentication is required.")
        raise ApiError("invalid_request", "Authentication is required.", 401, BOTH_CHALLENGES)
    if "client_id" in request.POST or "client_secret" in request.POST:
        raise ApiError("invalid_request", "Use only one client authentication method.")
    return Caller(verified_bearer(request, any_type=True))


def _provider_with_secret(client_id: str, secret: str) -> ServiceProvider:
    provider = ServiceProvider.objects.filter(client_id=client_id, active=True).first() if client_id else None
    if provider is None or not secret or not provider.check_client_secret(secret):
        raise _invalid_client("Unknown client or wrong secret.")
    return provider


def authorize_caller(request, *, scopes: set[str], about: dict | None = None, client_first: bool = False) -> tuple[dict, bool]:
    """The caller's claims, and whether the token asked about (its claims ``about``) is void.

    Both revocations are answered in one look-up. A token caller must be unrevoked and hold
    one of ``scopes``; a client whose remembered secret check is void (secret reset,
    deactivation) has its secret checked against the database again.
    """
    caller = authenticate_caller(request, client_first=client_first)
    while True:
        revoked = selectors.revoked_jtis([caller.claims, about] if about else [caller.claims])
        if not caller.by_secret:
            ensure_usable(caller.claims, revoked=revoked[caller.claims["jti"]], scopes=scopes)
        elif revoked[caller.claims["jti"]]:
            verified_secrets.forget(caller.claims["client_id"])
            if not caller.remembered:
                raise _invalid_client("Unknown client or wrong secret.")
            caller = Caller(verified_secrets.learn(_provider_with_secret(*client_credentials(request))), by_secret=True)
            continue
        return caller.claims, bool(about) and revoked[about["jti"]]
