"""Root URLs: staff pages, accounts (django-allauth), admin, each provider's URLs and the sandbox."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path


def healthz(request):
    return JsonResponse({"status": "ok"})


# Admins log in through the portal's login page: rate limits and the second factor apply to them too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("onboarding.account_urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("providers.bimedoc.urls")),
    path("", include("providers.edin.urls")),
    path("", include("providers.mobilesaude.urls")),
    path("", include("providers.mcg.urls")),
    path("", include("onboarding.urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("providers.sandbox.urls")))
