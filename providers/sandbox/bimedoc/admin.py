"""What the simulated Bimedoc holds, browsable in the admin (development only)."""

from django.contrib import admin

from .models import RemotePharmacy, RemoteUser


@admin.register(RemoteUser)
class RemoteUserAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "function", "pharmacy", "duplicate_attempts", "created_at")
    search_fields = ("email", "last_name")
    list_select_related = ("pharmacy",)


@admin.register(RemotePharmacy)
class RemotePharmacyAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "city", "created_by", "created_at")
    search_fields = ("name", "city")
