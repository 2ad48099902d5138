"""Admin for Mobile Saúde integration clients (the password is set here, never shown)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import IntegrationClient


class IntegrationClientForm(forms.ModelForm):
    new_password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        min_length=12,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. Leave empty to keep the current password."),
    )

    class Meta:
        model = IntegrationClient
        fields = ("usuario", "is_active")

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_password"):
            self.add_error("new_password", _("A new client needs a password."))
        return cleaned

    def save(self, commit=True):
        client = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            client.set_password(self.cleaned_data["new_password"])
        if commit:
            client.save()
        return client


@admin.register(IntegrationClient)
class IntegrationClientAdmin(admin.ModelAdmin):
    form = IntegrationClientForm
    list_display = ("usuario", "is_active", "last_authorized_at", "created_at", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("usuario",)
    readonly_fields = ("last_authorized_at", "created_at", "updated_at")
    actions = ["activate", "deactivate"]

    def get_fields(self, request, obj=None):
        fields = ["usuario", "new_password", "is_active"]
        return fields + list(self.readonly_fields) if obj else fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and ("is_active" in form.changed_data or form.cleaned_data.get("new_password")):
            services.void_client_tokens(obj)

    @admin.action(description=_("Activate selected clients"), permissions=["change"])
    def activate(self, request, queryset):
        clients = list(queryset.filter(is_active=False))
        for client in clients:
            services.set_client_active(client, True)
        count = len(clients)
        self.message_user(request, ngettext("%d client activated.", "%d clients activated.", count) % count, messages.SUCCESS)

    @admin.action(description=_("Deactivate selected clients (their tokens stop working)"), permissions=["change"])
    def deactivate(self, request, queryset):
        clients = list(queryset.filter(is_active=True))
        for client in clients:
            services.set_client_active(client, False)
        count = len(clients)
        self.message_user(request, ngettext("%d client deactivated.", "%d clients deactivated.", count) % count, messages.SUCCESS)
