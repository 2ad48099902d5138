"""What the simulated Bimedoc remembers: its users, pharmacies and SSO tokens."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class RemotePharmacy(models.Model):
    """A pharmacy created through the partner API (ids are integers, as an outside system might choose)."""

    name = models.CharField(max_length=200)
    phone_number = models.CharField(max_length=32, blank=True)
    street = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=120, blank=True)
    postcode = models.CharField(max_length=12, blank=True)
    created_by = models.ForeignKey("RemoteUser", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pharmacy on the sandbox")
        verbose_name_plural = _("pharmacies on the sandbox")

    def __str__(self):
        return self.name


class RemoteUser(models.Model):
    """A Bimedoc user; its id is a UUID, as in the seed's example JWT."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    mobile_number = models.CharField(max_length=32, blank=True)
    rpps_number = models.CharField(max_length=32, blank=True)
    gender = models.CharField(max_length=1, blank=True)
    function = models.CharField(max_length=16, blank=True)
    pharmacy = models.ForeignKey(RemotePharmacy, on_delete=models.SET_NULL, null=True, blank=True, related_name="users")
    duplicate_attempts = models.PositiveIntegerField(default=0, help_text="Creations refused because the email exists.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("user on the sandbox")
        verbose_name_plural = _("users on the sandbox")

    def __str__(self):
        return self.email


class SsoToken(models.Model):
    """A single-use sign-in token, valid for a short time."""

    token = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(RemoteUser, on_delete=models.CASCADE, related_name="sso_tokens")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
