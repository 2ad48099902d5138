"""Reads: token revocation and introspection, service requests, the inbox."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.db.models import Q

import tokens
from onboarding.models import Membership
from providers import revocation
from providers.revocation import ClientState

from .models import InboxItem, SenderPreference, ServiceProvider, ServiceRequest

# Client ids that no other kind of client claims are service providers' (theirs start with "mcg-").
CLIENT_ID_PREFIX = ""
INACTIVE = {"active": False}
INTROSPECTION_CLAIMS = ("scope", "client_id", "username", "exp", "iat", "nbf", "sub", "aud", "iss", "jti")


class VerifiedTokens:
    """A per-process memo of tokens whose signature, issuer and audience were verified.

    Checking an ES256 signature (and PyJWT's parsing around it) is most of an
    introspection's cost; a token string that verified once always verifies, so
    only its time window (exp/nbf) is checked again. Only valid tokens are kept,
    at most ``maxsize``, least recently used first out.
    """

    def __init__(self, maxsize: int = 10_000):
        self.maxsize = maxsize
        self._claims: OrderedDict[str, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> dict:
        """The token's claims (a copy), or InvalidToken."""
        # Verified against this key ring and audience: a rotated-out key or a new audience forgets the memo.
        context = (id(tokens.key_ring()), tokens.conf.AUDIENCE)
        with self._lock:
            entry = self._claims.get(token)
            if entry is not None:
                self._claims.move_to_end(token)
        if entry is None or entry[0] != context:
            entry = (context, tokens.verify(token, audience=tokens.conf.AUDIENCE))
            with self._lock:
                self._claims[token] = entry
                if len(self._claims) > self.maxsize:
                    self._claims.popitem(last=False)
        claims = entry[1]
        now = time.time()
        leeway = tokens.conf.LEEWAY
        if now >= claims["exp"] + leeway or now < claims["nbf"] - leeway:
            with self._lock:
                self._claims.pop(token, None)
            raise tokens.InvalidToken("token expired or not yet valid")
        return dict(claims)

    def clear(self):
        with self._lock:
            self._claims.clear()


verified_tokens = VerifiedTokens()


def verify_token(token: str) -> dict:
    """Claims of a portal access token meant for the portal's APIs, or InvalidToken."""
    return verified_tokens.verify(token)


def revoked_jtis(claims_list: list[dict]) -> dict[str, bool]:
    """Whether each token (by its claims) is void: revoked by jti, or its client inactive or its tokens voided since."""
    return revocation.revoked(claims_list)


def provider_token_state(client_id: str) -> ClientState | None:
    """Whether the provider with this OAuth client id is active, and its token generation."""
    row = ServiceProvider.objects.filter(client_id=client_id).values_list("active", "token_generation").first()
    return ClientState(*row) if row else None


def concerns(caller: dict, claims: dict) -> bool:
    """Whether a token is the caller's business: both were issued to the same OAuth client."""
    return bool(caller.get("client_id")) and claims.get("client_id") == caller["client_id"]


def token_claims(token: str) -> dict | None:
    """The claims of a valid portal token, or None."""
    try:
        return verify_token(token)
    except tokens.InvalidToken:
        return None


def introspection(claims: dict | None, *, caller: dict, revoked: bool) -> dict:
    """RFC 7662 answer about a token (its verified ``claims``, None when invalid) for the caller whose claims are ``caller``.

    Anything the caller may not learn about (invalid, expired, revoked, or not
    issued to the caller's client) is ``{"active": false}`` and nothing more.
    """
    if claims is None or revoked or not concerns(caller, claims):
        return dict(INACTIVE)
    answer = {"active": True, "token_type": "Bearer"}
    answer.update({name: claims[name] for name in INTROSPECTION_CLAIMS if name in claims and claims[name] != ""})
    return answer


def reaches(provider: ServiceProvider, user) -> bool:
    """Whether the provider may send to the user: an active member of a pharmacy linked to it (any, when it reaches all)."""
    if not user.is_active or not provider.active:
        return False
    memberships = Membership.objects.filter(user=user)
    if not provider.all_pharmacies:
        memberships = memberships.filter(pharmacy__provider_links__provider=provider)
    return memberships.exists()


def senders_of(user) -> list[tuple[ServiceProvider, SenderPreference | None]]:
    """The active providers that may reach the user, each with the user's preference (None: the defaults)."""
    if not Membership.objects.filter(user=user).exists():
        return []
    providers = (
        ServiceProvider.objects.filter(active=True)
        .filter(Q(all_pharmacies=True) | Q(pharmacy_links__pharmacy__memberships__user=user))
        .distinct()
        .order_by("name", "provider_id")
    )
    preferences = {p.provider_id: p for p in SenderPreference.objects.filter(user=user)}
    return [(provider, preferences.get(provider.pk)) for provider in providers]


def sender_preference(user, provider: ServiceProvider) -> SenderPreference | None:
    return SenderPreference.objects.filter(user=user, provider=provider).first()


def service_request_for(provider, public_id) -> ServiceRequest | None:
    """The provider's own request with this public id, or None."""
    return (
        ServiceRequest.objects.filter(provider=provider, public_id=public_id)
        .select_related("destination")
        .prefetch_related("items")
        .first()
    )


def inbox_for(user):
    return InboxItem.objects.filter(user=user).select_related("request__provider").defer("picture")


def inbox_item_for(user, public_id) -> InboxItem | None:
    """The user's own inbox item, or None (nobody else's)."""
    return InboxItem.objects.filter(user=user, public_id=public_id).select_related("request__provider").first()


def unread_count(user) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).count()
