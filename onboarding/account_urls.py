"""The portal's own pages under /accounts/ (beside allauth's), and the old addresses emails and bookmarks may hold."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    # Before django-allauth: Django's auth views.
    path("password_reset/", RedirectView.as_view(pattern_name="account_reset_password", permanent=True)),
    path("password_reset/done/", RedirectView.as_view(pattern_name="account_reset_password_done", permanent=True)),
    path("reset/done/", RedirectView.as_view(pattern_name="account_login", permanent=True)),
    path("reset/<uidb64>/<token>/", views.legacy_password_reset_link, name="legacy-password-reset"),
    path("password_change/", RedirectView.as_view(pattern_name="account_change_password", permanent=True)),
    path("password_change/done/", RedirectView.as_view(pattern_name="account_change_password", permanent=True)),
]
