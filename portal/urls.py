"""Root URLs: staff pages, Django's auth views, admin, each provider's URLs and the sandbox."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path

from onboarding.emails import QueuedPasswordResetForm


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(
            form_class=QueuedPasswordResetForm, email_template_name="registration/password_reset_email.txt"
        ),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("providers.bimedoc.urls")),
    path("", include("providers.edin.urls")),
    path("", include("providers.mobilesaude.urls")),
    path("", include("providers.mcg.urls")),
    path("", include("onboarding.urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("providers.sandbox.urls")))
