"""The sandbox's URLs, mounted under /sandbox/ by the portal or served alone by ``manage.py run_sandbox``."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("<str:simulator>/_faults", views.fault_profile, name="sandbox-faults"),
    path("bimedoc/", include("providers.sandbox.bimedoc.urls")),
    path("bimedoc-app/", include("providers.sandbox.bimedoc.app_urls")),
    path("edin/", include("providers.sandbox.edin.urls")),
    path("gateway/", include("providers.sandbox.gateway.urls")),
]
