"""The URLs ``manage.py run_sandbox`` serves: the sandbox alone, under the same /sandbox/ prefix as in the portal."""

from django.urls import include, path

urlpatterns = [path("sandbox/", include("providers.sandbox.urls"))]
