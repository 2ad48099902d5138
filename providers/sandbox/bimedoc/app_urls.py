"""The simulated Bimedoc app, under <SANDBOX_URL>/bimedoc-app/."""

from django.urls import path

from . import views

urlpatterns = [
    path("sso/", views.sso_landing, name="sandbox-bimedoc-sso"),
]
