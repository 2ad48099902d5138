"""Session rules for staff: sessions end when left idle, and Django admin asks for an enrolled second factor."""

import time

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.translation import gettext as _

LAST_SEEN_KEY = "portal_last_seen"
# The session's clock is saved at most this often (seconds), not on every request.
REFRESH_EVERY = 60


class IdleSessionMiddleware:
    """Log out a session idle for more than SESSION_IDLE_TIMEOUT seconds, saying why, and send it to the login page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                messages.info(
                    request,
                    _("You were logged out after %(minutes)s minutes without activity. Log in again to continue.")
                    % {"minutes": settings.SESSION_IDLE_TIMEOUT // 60},
                )
                return redirect_to_login(request.get_full_path())
            if last_seen is None or now - last_seen >= REFRESH_EVERY:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class AdminSecondFactorMiddleware:
    """With ADMIN_MFA_REQUIRED, staff without an enrolled second factor are sent to enrol before Django admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if not (settings.ADMIN_MFA_REQUIRED and match and match.namespace == "admin"):
            return None
        user = request.user
        if not (user.is_authenticated and user.is_staff) or is_mfa_enabled(user):
            return None
        messages.warning(request, _("Django admin requires two-factor authentication: set it up first, then go back to admin."))
        return redirect("mfa_activate_totp")
