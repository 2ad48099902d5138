"""Who may drive the sandbox's control endpoints (``_faults``, ``_state``, ``_control``, ``_accounts``, ``_sessions``).

In development (a process started with DEBUG on) anyone on the machine may. With DEBUG off, as in
``make up``, a request needs a staff session or the ``SANDBOX_CONTROL_KEY`` in
the ``X-Sandbox-Control-Key`` header: these endpoints can slow every simulator
down, wipe its state or add accounts.
"""

import functools
import hmac

from django.conf import settings
from django.http import JsonResponse

from .conf import conf as sandbox_conf

HEADER = "X-Sandbox-Control-Key"


def may_control(request) -> bool:
    if settings.SANDBOX_CONTROLS_OPEN:
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_staff:
        return True
    key = sandbox_conf.CONTROL_KEY
    given = request.headers.get(HEADER, "")
    return bool(key) and hmac.compare_digest(given.encode(), key.encode())


def control_endpoint(view):
    """Answer 403 unless the request may drive the sandbox."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not may_control(request):
            return JsonResponse(
                {"detail": f"Sandbox controls need a staff session or the {HEADER} header (SANDBOX_CONTROL_KEY)."},
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapper
