"""The simulated partner API, under <SANDBOX_URL>/bimedoc/."""

from django.urls import path

from . import views

urlpatterns = [
    path("auth/user/", views.create_user, name="sandbox-bimedoc-user"),
    path("auth/pharmacy/", views.create_pharmacy, name="sandbox-bimedoc-pharmacy"),
    path("auth/ssoToken/", views.create_sso_token, name="sandbox-bimedoc-sso-token"),
    path("_state", views.state, name="sandbox-bimedoc-state"),
]
