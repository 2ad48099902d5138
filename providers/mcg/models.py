"""Service providers, revoked tokens, service requests and the staff inbox they fill."""

import hashlib
import hmac
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_client_secret(secret: str) -> str:
    """SHA-256 of a client secret.

    Client secrets are 256-bit random strings made by the portal, not passwords
    people choose, so a fast hash is enough and keeps /token cheap.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


class ServiceProvider(models.Model):
    """A third party allowed to call /Services and introspect its own tokens."""

    provider_id = models.BigIntegerField(_("provider id"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    client_id = models.CharField(_("OAuth client id"), max_length=64, unique=True)
    client_secret_hash = models.CharField(_("client secret (SHA-256)"), max_length=64, editable=False)
    service_token = models.UUIDField(_("service token"), default=uuid.uuid4, unique=True)
    service_ids = models.JSONField(_("allowed service ids"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # When the provider's tokens were last voided (secret reset, deactivation, reactivation), for the record.
    tokens_valid_after = models.DateTimeField(_("tokens valid after"), null=True, blank=True, editable=False)
    # Bumped each time the provider's tokens are voided; a token carries the generation it was issued under.
    token_generation = models.PositiveIntegerField(_("token generation"), default=0, editable=False)
    all_pharmacies = models.BooleanField(
        _("reaches every pharmacy"),
        default=False,
        help_text=_("Send to the members of every pharmacy, not only of the pharmacies linked below."),
    )
    pharmacies = models.ManyToManyField(
        "onboarding.Pharmacy", through="PharmacyLink", related_name="service_providers", verbose_name=_("pharmacies"), blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ["provider_id"]

    def __str__(self):
        return f"{self.name} ({self.provider_id})"

    def clean(self):
        ids = self.service_ids
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ValidationError({"service_ids": _("Enter a list of whole numbers, e.g. [1, 2].")})

    def check_client_secret(self, secret: str) -> bool:
        return hmac.compare_digest(self.client_secret_hash, hash_client_secret(secret))

    def may_call(self, service_id: int) -> bool:
        return service_id in self.service_ids


class PharmacyLink(models.Model):
    """A pharmacy whose active members a service provider may reach."""

    provider = models.ForeignKey(ServiceProvider, on_delete=models.CASCADE, related_name="pharmacy_links")
    pharmacy = models.ForeignKey("onboarding.Pharmacy", on_delete=models.CASCADE, related_name="provider_links")
    created_at = models.DateTimeField(_("linked"), default=timezone.now)

    class Meta:
        verbose_name = _("pharmacy reached")
        verbose_name_plural = _("pharmacies reached")
        constraints = [models.UniqueConstraint(fields=["provider", "pharmacy"], name="mcg_pharmacy_link_once")]

    def __str__(self):
        return f"{self.provider} → {self.pharmacy}"


class SenderPreference(models.Model):
    """What one user accepts from one service provider: its advertisements (opt-in), or nothing at all (muted)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sender_preferences")
    provider = models.ForeignKey(ServiceProvider, on_delete=models.CASCADE, related_name="sender_preferences")
    accepts_ads = models.BooleanField(_("receives advertisements"), default=False)
    muted = models.BooleanField(_("muted"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sender preference")
        verbose_name_plural = _("sender preferences")
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="mcg_sender_preference_once")]

    def __str__(self):
        return f"{self.user} ← {self.provider}"


class RevokedToken(models.Model):
    """A revoked access token, by jti, kept until the token would have expired anyway."""

    jti = models.CharField(_("token id (jti)"), max_length=64, unique=True)
    client_id = models.CharField(_("client id"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    revoked_at = models.DateTimeField(_("revoked"), default=timezone.now)

    class Meta:
        verbose_name = _("revoked token")
        verbose_name_plural = _("revoked tokens")
        ordering = ["-revoked_at"]

    def __str__(self):
        return self.jti


class RequestStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DELIVERED = "delivered", _("Delivered")
    PARTIALLY_DELIVERED = "partially_delivered", _("Partially delivered")
    FAILED = "failed", _("Failed")


class ServiceRequest(models.Model):
    """One accepted call to /Services."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(ServiceProvider, on_delete=models.PROTECT, related_name="requests")
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True)
    service_id = models.IntegerField(_("service id"))
    destination = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_requests")
    payload = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.ACCEPTED)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="mcg_request_idempotency_key_per_provider",
            )
        ]

    def __str__(self):
        return f"{self.provider} → {self.destination} (service {self.service_id})"


class InboxKind(models.TextChoices):
    NOTIFICATION = "notification", _("Notification")
    ADVERTISEMENT = "advertisement", _("Advertisement")
    COUPON = "coupon", _("Coupon")


class Channel(models.TextChoices):
    SMS = "SMS", "SMS"
    FCM = "FCM", _("Push (FCM)")
    SAT = "SAT", "SAT"
    EMAIL = "email", _("Email")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class InboxItem(models.Model):
    """A notification, advertisement or coupon addressed to one user; always shown in the portal inbox."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="items", null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items")
    kind = models.CharField(_("kind"), max_length=16, choices=InboxKind.choices)
    title = models.CharField(_("title"), max_length=32, blank=True)
    message = models.CharField(_("message"), max_length=166, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, blank=True)
    link = models.URLField(_("link"), max_length=2000, blank=True)
    picture = models.BinaryField(_("picture"), null=True, blank=True)
    picture_type = models.CharField(_("picture type"), max_length=32, blank=True)
    qr_payload = models.TextField(_("QR code content"), blank=True)
    delivery_status = models.CharField(
        _("delivery"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("inbox item")
        verbose_name_plural = _("inbox items")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="mcg_inbox_user_read_idx")]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class DeliveryAttempt(models.Model):
    """One try at delivering an inbox item over its channel (append-only)."""

    item = models.ForeignKey(InboxItem, on_delete=models.CASCADE, related_name="attempts")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    backend = models.CharField(_("backend"), max_length=200)
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    succeeded = models.BooleanField(_("succeeded"))
    retryable = models.BooleanField(_("will retry"), default=False)
    remote_id = models.CharField(_("remote id"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.item} via {self.channel} #{self.attempt}"
