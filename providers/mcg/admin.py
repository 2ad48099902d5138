"""Admin for service providers, their requests, revoked tokens, inbox items and delivery attempts."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from onboarding.admin import LabelledTabularInline

from . import services
from .models import (
    DeliveryAttempt,
    InboxItem,
    PharmacyLink,
    RevokedToken,
    SenderPreference,
    ServiceProvider,
    ServiceRequest,
)


class ServiceProviderForm(forms.ModelForm):
    """The client secret is typed here (write-only) and stored hashed; it is never shown back."""

    new_client_secret = forms.CharField(
        label=_("New client secret"),
        required=False,
        min_length=32,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 32 characters, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))'. "
            "Hand it over to the provider yourself; it is stored only as a hash. Leave empty to keep the "
            "current one. Setting a new one stops the old one and every token issued with it. "
            "(manage.py create_service_provider generates one for you.)"
        ),
    )

    class Meta:
        model = ServiceProvider
        fields = ("provider_id", "name", "service_ids", "service_token", "active", "all_pharmacies")

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_client_secret"):
            self.add_error("new_client_secret", _("A new provider needs a client secret."))
        return cleaned


class PharmacyLinkInline(LabelledTabularInline):
    model = PharmacyLink
    extra = 0
    autocomplete_fields = ["pharmacy"]
    readonly_fields = ("created_at",)
    verbose_name = _("pharmacy whose members it reaches")
    verbose_name_plural = _("pharmacies whose members it reaches")


@admin.register(ServiceProvider)
class ServiceProviderAdmin(admin.ModelAdmin):
    form = ServiceProviderForm
    list_display = ("provider_id", "name", "client_id", "service_ids", "active", "all_pharmacies", "created_at")
    list_filter = ("active", "all_pharmacies", ("pharmacies", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "client_id", "=provider_id")
    readonly_fields = ("client_id", "created_at")
    inlines = [PharmacyLinkInline]
    fields = (
        "provider_id",
        "name",
        "service_ids",
        "service_token",
        "active",
        "all_pharmacies",
        "new_client_secret",
        "client_id",
        "created_at",
    )
    # The service token authorizes calls: shown only to those who may change providers.
    secret_fields = ("service_token", "new_client_secret")

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self.has_change_permission(request, obj):
            fields = [f for f in fields if f not in self.secret_fields]
        return fields

    def save_model(self, request, obj, form, change):
        secret = form.cleaned_data.get("new_client_secret")
        if change:
            super().save_model(request, obj, form, change)
            if "active" in form.changed_data:
                services.set_active(obj, obj.active)
            if secret:
                services.reset_client_secret(obj, secret)
            return
        provider, _secret = services.create_service_provider(
            provider_id=obj.provider_id,
            name=obj.name,
            service_ids=obj.service_ids or [],
            client_secret=secret,
            all_pharmacies=obj.all_pharmacies,
        )
        obj.pk = provider.pk
        obj.refresh_from_db()


class InboxItemInline(LabelledTabularInline):
    model = InboxItem
    extra = 0
    fields = ("kind", "title", "channel", "delivery_status", "read_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ("public_id", "provider", "service_id", "destination", "status", "created_at")
    list_filter = ("status", "provider")
    search_fields = ("public_id", "idempotency_key", "destination__email")
    readonly_fields = ("public_id", "provider", "idempotency_key", "service_id", "destination", "payload", "status", "created_at")
    inlines = [InboxItemInline]

    def has_add_permission(self, request):
        return False


class DeliveryAttemptInline(LabelledTabularInline):
    model = DeliveryAttempt
    extra = 0
    readonly_fields = ("created_at", "channel", "backend", "attempt", "succeeded", "retryable", "remote_id", "error")
    fields = readonly_fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InboxItem)
class InboxItemAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "user", "channel", "delivery_status", "read_at", "created_at")
    list_filter = ("kind", "channel", "delivery_status")
    search_fields = ("title", "user__email", "public_id")
    exclude = ("picture",)
    readonly_fields = ("public_id", "request", "user", "kind", "picture_type", "qr_payload", "delivery_status", "created_at")
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ("item", "channel", "attempt", "succeeded", "retryable", "backend", "created_at")
    list_filter = ("channel", "succeeded")
    readonly_fields = ("item", "channel", "backend", "attempt", "succeeded", "retryable", "remote_id", "error", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SenderPreference)
class SenderPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "accepts_ads", "muted", "updated_at")
    list_filter = ("accepts_ads", "muted", "provider")
    search_fields = ("user__email", "provider__name")
    readonly_fields = ("user", "provider", "accepts_ads", "muted", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RevokedToken)
class RevokedTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "client_id", "revoked_at", "expires_at")
    search_fields = ("jti", "client_id")
    readonly_fields = ("jti", "client_id", "revoked_at", "expires_at")

    def has_add_permission(self, request):
        return False
