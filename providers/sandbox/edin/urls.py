"""The simulated EDIN, mounted at /sandbox/edin/."""

from django.urls import path

from . import views

app_name = "sandbox_edin"

urlpatterns = [
    path("", views.site_sign_in, name="site"),
    path("bdoc/auth_uuid", views.auth_uuid, name="auth-uuid"),
    path("bdoc/auth", views.auth, name="auth"),
    path("bdoc/profile", views.profile, name="profile"),
    path("_control", views.control, name="control"),
    path("_accounts", views.accounts, name="accounts"),
    path("_sessions", views.sessions, name="sessions"),
]
