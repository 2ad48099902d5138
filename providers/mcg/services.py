"""Changes: register providers, issue and revoke tokens, accept /Services requests, deliver, read the inbox."""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import BadHeaderError, send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import tokens
from onboarding.audit import audit_context
from providers import revocation
from providers.http import ProviderError, RetryableError

from . import schemas, selectors
from .gateways import NoRecipient, OutgoingMessage, get_gateway
from .models import (
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    InboxItem,
    InboxKind,
    PharmacyLink,
    RequestStatus,
    RevokedToken,
    SenderPreference,
    ServiceProvider,
    ServiceRequest,
    hash_client_secret,
)

logger = logging.getLogger(__name__)

PROVIDER_SCOPES = ("services", "tokeninfo")


# --- Providers and tokens ------------------------------------------------------------


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def create_service_provider(
    *, provider_id: int, name: str, service_ids=(), client_secret: str | None = None, pharmacies=(), all_pharmacies=False
) -> tuple[ServiceProvider, str]:
    """Register a provider reaching these pharmacies (or all); return it with its client secret (stored only hashed)."""
    secret = client_secret or new_client_secret()
    with transaction.atomic():
        provider = ServiceProvider.objects.create(
            provider_id=provider_id,
            name=name,
            client_id=f"mcg-{provider_id}-{secrets.token_hex(6)}",
            client_secret_hash=hash_client_secret(secret),
            service_ids=sorted({int(s) for s in service_ids}),
            all_pharmacies=all_pharmacies,
        )
        link_pharmacies(provider, pharmacies)
    return provider, secret


def link_pharmacies(provider: ServiceProvider, pharmacies) -> None:
    """Let the provider reach the active members of these pharmacies too."""
    for pharmacy in pharmacies:
        PharmacyLink.objects.get_or_create(provider=provider, pharmacy=pharmacy)


def reset_client_secret(provider: ServiceProvider, client_secret: str | None = None) -> str:
    """Give the provider a new client secret; the old one and every token issued so far stop working at once."""
    secret = client_secret or new_client_secret()
    provider.client_secret_hash = hash_client_secret(secret)
    provider.save(update_fields=["client_secret_hash"])
    void_tokens(provider)
    return secret


def set_active(provider: ServiceProvider, active: bool) -> None:
    """Activate or deactivate a provider; deactivating voids its tokens at once."""
    provider.active = active
    provider.save(update_fields=["active"])
    void_tokens(provider)


def void_tokens(provider: ServiceProvider) -> None:
    """Every token issued to the provider until now stops working, in every process at once."""
    now = timezone.now()
    ServiceProvider.objects.filter(pk=provider.pk).update(token_generation=F("token_generation") + 1, tokens_valid_after=now)
    provider.refresh_from_db(fields=["token_generation", "tokens_valid_after"])
    revocation.client_changed(provider.client_id)


class InvalidScope(Exception):
    pass


def issue_provider_token(provider: ServiceProvider, *, scope: str | None = None) -> tokens.IssuedToken:
    """An access token for the provider (client credentials grant), for the requested scopes or all of its own."""
    requested = scope.split() if scope else list(PROVIDER_SCOPES)
    if not requested or set(requested) - set(PROVIDER_SCOPES):
        raise InvalidScope(f"Allowed scopes: {' '.join(PROVIDER_SCOPES)}.")
    return tokens.issue(
        subject=str(provider.provider_id),
        audience=tokens.conf.AUDIENCE,
        scope=" ".join(s for s in PROVIDER_SCOPES if s in requested),
        client_id=provider.client_id,
        extra={"username": provider.name, "gen": provider.token_generation},
    )


def revoke_token(token: str, *, client_id: str) -> bool:
    """Revoke a valid token issued to ``client_id`` (RFC 7009); anything else is silently ignored."""
    try:
        claims = tokens.verify(token, audience=tokens.conf.AUDIENCE)
    except tokens.InvalidToken:
        return False
    if claims.get("client_id") != client_id:
        return False
    expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    RevokedToken.objects.get_or_create(jti=claims["jti"], defaults={"client_id": client_id, "expires_at": expires_at})
    revocation.token_revoked(claims["jti"], expires_at=int(claims["exp"]))
    return True


def purge_expired_revocations() -> int:
    """Forget revocations of tokens that have expired anyway."""
    cutoff = timezone.now() - timedelta(seconds=tokens.conf.LEEWAY + 60)
    deleted, _ = RevokedToken.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


# --- /Services ---------------------------------------------------------------------------


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


# One answer for every destination the provider may not send to, so that none can be told apart.
UNREACHABLE = "No user you may reach has this destination id."


class Duplicate(Exception):
    def __init__(self, existing: ServiceRequest):
        super().__init__("duplicate request")
        self.existing = existing


@dataclass
class Accepted:
    service_request: ServiceRequest


def authorize_call(provider: ServiceProvider, call: schemas.ServiceCall) -> None:
    """The body must name the token's own provider, its service token and a service it may call."""
    if call.provider_id != provider.provider_id:
        raise Forbidden("provider_id does not match the access token.")
    if call.service_token != provider.service_token:
        raise Forbidden("service_token does not belong to this provider.")
    if not provider.may_call(call.service_id):
        raise Forbidden(f"This provider may not call service {call.service_id}.")


def submit_service_request(provider: ServiceProvider, call: schemas.ServiceCall, *, idempotency_key: str = "") -> ServiceRequest:
    """Accept a /Services call: every item lands in the user's inbox now; channel delivery runs in Celery."""
    authorize_call(provider, call)
    parameters = schemas.parse_parameters(call.parameters)
    # Before the destination lookup: a replayed key answers the same whatever the destination.
    if idempotency_key:
        existing = ServiceRequest.objects.filter(provider=provider, idempotency_key=idempotency_key).first()
        if existing:
            raise Duplicate(existing)
    user = _reachable_destination(provider, parameters)
    try:
        with transaction.atomic():
            service_request = ServiceRequest.objects.create(
                provider=provider,
                idempotency_key=idempotency_key,
                service_id=call.service_id,
                destination=user,
                payload=_stored_payload(call.parameters),
            )
            for spec in parameters.messages:
                item = InboxItem.objects.create(
                    request=service_request,
                    user=user,
                    kind=spec.kind,
                    title=spec.title,
                    message=spec.message,
                    channel=spec.channel,
                    link=spec.link,
                    picture=spec.picture,
                    picture_type=spec.picture_type,
                    qr_payload=spec.qr_payload,
                    delivery_status=DeliveryStatus.PENDING if spec.channel else DeliveryStatus.DELIVERED,
                )
                if spec.channel:
                    from .tasks import deliver_item

                    deliver_item.delay_on_commit(item.pk)
            _refresh_request_status(service_request)
    except IntegrityError:
        existing = ServiceRequest.objects.filter(provider=provider, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        raise Duplicate(existing)
    return service_request


def _reachable_destination(provider: ServiceProvider, parameters: schemas.ServiceParameters):
    """The destination user, when the provider may send them all of this; else NotFound, always the same."""
    user = get_user_model().objects.filter(public_id=parameters.destination, is_active=True).first()
    if user is None or not selectors.reaches(provider, user):
        raise NotFound(UNREACHABLE)
    preference = selectors.sender_preference(user, provider)
    if preference is not None and preference.muted:
        raise NotFound(UNREACHABLE)
    has_ad = any(spec.kind == InboxKind.ADVERTISEMENT for spec in parameters.messages)
    if has_ad and (preference is None or not preference.accepts_ads):
        raise NotFound(UNREACHABLE)
    return user


def set_sender_preference(user, provider: ServiceProvider, *, accepts_ads: bool | None = None, muted: bool | None = None):
    """Record what the user accepts from a provider that reaches them."""
    preference, _created = SenderPreference.objects.get_or_create(user=user, provider=provider)
    if accepts_ads is not None:
        preference.accepts_ads = accepts_ads
    if muted is not None:
        preference.muted = muted
    preference.save()
    return preference


def _stored_payload(parameters: dict) -> dict:
    """The parameters as received, without picture bytes (kept once, on the inbox item)."""
    stored = {}
    for key, value in parameters.items():
        if isinstance(value, dict):
            value = {k: ("[picture]" if str(k).lower() in ("picture", "imagen", "image") else v) for k, v in value.items()}
        stored[key] = value
    return stored


def _refresh_request_status(service_request: ServiceRequest) -> None:
    statuses = set(service_request.items.values_list("delivery_status", flat=True))
    if not statuses or statuses == {DeliveryStatus.DELIVERED}:
        status = RequestStatus.DELIVERED
    elif DeliveryStatus.PENDING in statuses:
        status = RequestStatus.ACCEPTED
    elif statuses == {DeliveryStatus.FAILED}:
        status = RequestStatus.FAILED
    else:
        status = RequestStatus.PARTIALLY_DELIVERED
    if status != service_request.status:
        ServiceRequest.objects.filter(pk=service_request.pk).update(status=status)
        service_request.status = status


# --- Delivery ----------------------------------------------------------------------------


def deliver_item(item_id: int, *, attempt: int = 1, final: bool = True, task_id: str = "") -> None:
    """Send one inbox item over its channel, recording the attempt.

    Raises RetryableError when the attempt failed for a reason that may pass and
    this is not the ``final`` attempt; otherwise the item ends delivered or failed.
    """
    item = InboxItem.objects.select_related("user", "request").filter(pk=item_id).first()
    if item is None or item.delivery_status != DeliveryStatus.PENDING or not item.channel:
        return
    with audit_context(user=item.user, task_id=task_id, attempt=attempt):
        backend = "django.core.mail" if item.channel == Channel.EMAIL else settings.DELIVERY_GATEWAY_BACKEND
        try:
            remote_id = _send(item)
        except RetryableError as exc:
            retry = not final
            _record_attempt(item, backend, attempt, succeeded=False, retryable=retry, error=exc.message)
            if retry:
                raise
            _finish(item, DeliveryStatus.FAILED)
            return
        except ProviderError as exc:
            _record_attempt(item, backend, attempt, succeeded=False, error=exc.message)
            _finish(item, DeliveryStatus.FAILED)
            return
        _record_attempt(item, backend, attempt, succeeded=True, remote_id=remote_id)
        _finish(item, DeliveryStatus.DELIVERED)


def _send(item: InboxItem) -> str:
    if item.channel == Channel.EMAIL:
        body = "\n\n".join(part for part in (item.message, item.link) if part)
        try:
            send_mail(item.title or item.get_kind_display(), body, None, [item.user.email])
        except BadHeaderError:
            # Such titles are refused at /Services now; one stored before cannot be sent, so it fails for good.
            raise ProviderError("email: the title cannot be an email subject (it holds a line break)", provider="email")
        except (smtplib.SMTPException, OSError) as exc:
            raise RetryableError(f"email: {type(exc).__name__}", provider="email")
        return ""
    if item.channel == Channel.SMS:
        if not item.user.mobile_number:
            raise NoRecipient("The user has no mobile number for SMS.", provider="gateway")
        to = item.user.mobile_number
    else:
        to = f"user:{item.user.public_id}"
    message = OutgoingMessage(
        message_id=f"{item.public_id}:{item.channel.lower()}",
        channel=item.channel.lower(),
        to=to,
        title=item.title,
        body=item.message,
        link=item.link,
    )
    return get_gateway().send(message)


def _record_attempt(item, backend, attempt, *, succeeded, retryable=False, error="", remote_id=""):
    DeliveryAttempt.objects.create(
        item=item,
        channel=item.channel,
        backend=backend[:200],
        attempt=attempt,
        succeeded=succeeded,
        retryable=retryable,
        error=error[:2000],
        remote_id=(remote_id or "")[:200],
    )


def _finish(item: InboxItem, status: str) -> None:
    InboxItem.objects.filter(pk=item.pk).update(delivery_status=status)
    if item.request_id:
        _refresh_request_status(item.request)


# --- Inbox -------------------------------------------------------------------------------


def mark_read(item: InboxItem) -> None:
    if item.read_at is None:
        item.read_at = timezone.now()
        item.save(update_fields=["read_at"])


def mark_unread(item: InboxItem) -> None:
    if item.read_at is not None:
        item.read_at = None
        item.save(update_fields=["read_at"])
