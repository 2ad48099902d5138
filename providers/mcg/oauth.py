"""OAuth 2.0 request validation, kept apart from the views: client authentication and bearer tokens.

Client authentication follows RFC 6749 §2.3.1 (HTTP Basic, or ``client_id`` and
``client_secret`` in the form body, never both); bearer tokens follow RFC 6750.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote

from onboarding import tokens

from . import selectors
from .models import ServiceProvider

REALM = "mcg"


@dataclass
class ApiError(Exception):
    """An error answered as ``{"error": ..., "error_description": ...}`` with the right status and headers.

    OAuth endpoints use RFC 6749 §5.2 / RFC 6750 §3.1 codes; /Services uses the same shape.
    """

    error: str
    description: str
    status: int = 400
    www_authenticate: str = ""
    field_errors: dict | None = None

    def __str__(self):
        return f"{self.error}: {self.description}"


def _invalid_client(description: str, scheme: str = "Basic") -> ApiError:
    return ApiError("invalid_client", description, 401, f'{scheme} realm="{REALM}"')


def client_credentials(request) -> tuple[str, str] | None:
    """The (client_id, client_secret) the request authenticates with, or None when it sends none."""
    header = request.headers.get("Authorization", "")
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
    client_id, secret = credentials
    provider = ServiceProvider.objects.filter(client_id=client_id, active=True).first() if client_id else None
    if provider is None or not secret or not provider.check_client_secret(secret):
        raise _invalid_client("Unknown client or wrong secret.")
    return provider


def bearer_token(request, *, any_type: bool = False) -> str:
    """The token in ``Authorization: Bearer <JWT>`` (or any ``<type> <JWT>`` when ``any_type``)."""
    header = request.headers.get("Authorization", "")
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
