"""The portal's JWT access tokens (RFC 9068 style): issued to service providers, integration clients and users.

Tokens are signed with ES256. ``ACCESS_TOKEN_SIGNING_KEYS`` lists PEM private keys:
the first signs, all verify (rotation: add the new key first, drop the old one
once its tokens have expired). Each key's ``kid`` is its RFC 7638 thumbprint and
its public half is published at ``/.well-known/jwks.json``. Key objects are
loaded once per process, not per request.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import ECAlgorithm

from portal.appconf import debug_process

from .conf import KEYS_REQUIRED, conf, signing_pems

ALGORITHM = "ES256"


class InvalidToken(Exception):
    """The token is malformed, forged, expired, not yet valid or not meant for this audience."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    public_jwk: dict


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: int  # seconds since the epoch
    claims: dict


def _thumbprint(public_jwk: dict) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of an EC public key."""
    import base64

    canonical = json.dumps({k: public_jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _signing_key(private_key) -> SigningKey:
    public_jwk = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
    kid = _thumbprint(public_jwk)
    return SigningKey(kid=kid, private_key=private_key, public_jwk={**public_jwk, "kid": kid, "use": "sig", "alg": ALGORITHM})


def _development_key() -> ec.EllipticCurvePrivateKey:
    """A stable key derived from SECRET_KEY, for development only."""
    seed = int.from_bytes(hashlib.sha256(("jwt:" + settings.SECRET_KEY).encode()).digest(), "big")
    return ec.derive_private_key(seed % (2**255), ec.SECP256R1())


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[SigningKey, ...]
    public_keys: dict  # kid -> public key object

    @property
    def current(self) -> SigningKey:
        return self.keys[0]


def _ring(keys: list[SigningKey]) -> KeyRing:
    return KeyRing(keys=tuple(keys), public_keys={k.kid: k.private_key.public_key() for k in keys})


@lru_cache(maxsize=4)
def _load_keys(pems: tuple[str, ...]) -> KeyRing:
    if not pems:
        if not debug_process():
            raise ImproperlyConfigured(KEYS_REQUIRED)
        return _ring([_signing_key(_development_key())])
    keys = []
    for pem in pems:
        private_key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
            raise ValueError("ACCESS_TOKEN_SIGNING_KEYS must hold P-256 (ES256) private keys.")
        keys.append(_signing_key(private_key))
    return _ring(keys)


def key_ring() -> KeyRing:
    """The configured keys, loaded once per key set."""
    return _load_keys(signing_pems())


def jwks() -> dict:
    """The public keys, as a JWK Set."""
    return {"keys": [key.public_jwk for key in key_ring().keys]}


def issue(
    *,
    subject: str,
    audience: str | list[str],
    scope: str = "",
    client_id: str = "",
    lifetime: int | None = None,
    extra: dict | None = None,
) -> IssuedToken:
    """Sign a new access token."""
    now = int(time.time())
    lifetime = lifetime or conf.LIFETIME
    jti = uuid.uuid4().hex
    claims = {
        "iss": conf.ISSUER,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": jti,
        "scope": scope,
        "client_id": client_id,
        **(extra or {}),
    }
    return IssuedToken(token=sign(claims, typ="at+jwt"), jti=jti, expires_at=claims["exp"], claims=claims)


def verify(token: str, *, audience: str | list[str] | None = None) -> dict:
    """The token's claims if its signature, exp, nbf, iss and (when given) audience check out; else InvalidToken."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("unexpected algorithm")
    public_key = key_ring().public_keys.get(header.get("kid"))
    if public_key is None:
        raise InvalidToken("unknown signing key")
    try:
        return jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=conf.ISSUER,
            leeway=conf.LEEWAY,
            options={"require": ["exp", "iat", "nbf", "iss", "sub", "jti"], "verify_aud": audience is not None},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc


def sign(claims: dict, *, typ: str) -> str:
    """A JWT of ``claims`` signed with the current key, its header naming ``typ`` (e.g. RFC 9701 answers)."""
    key = key_ring().current
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": typ})
