"""What the portal's machine APIs (MCG's service-provider API, Mobile Saúde's endpoints) share.

- ``JsonAnswer``: a JSON response encoded with orjson (UTF-8, no spaces), never cached
  unless the view says otherwise.
- ``machine_api``: marks a view as a machine endpoint. ``MachineApiMiddleware``, first in
  ``MIDDLEWARE``, sends requests for marked views past the middleware that only browsers
  need (sessions, languages, CSRF, authentication, messages, accounts): a machine call
  carries no cookie and no form token, so that work is wasted on it. Machine answers keep
  the security headers (``SecurityMiddleware``: HTTPS redirect, HSTS, nosniff) and the
  Content-Security-Policy, built once per process.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, get_resolver, get_urlconf

# Only paths under these prefixes are looked up: every other request goes down the full chain at once.
MACHINE_PREFIXES = ("/mcg/v1/", "/.well-known/", "/Services", "/integrations/mobilesaude/")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class JsonAnswer(HttpResponse):
    """A JSON answer (orjson: non-ASCII text as UTF-8, keys in the order given)."""

    def __init__(self, data, *, status: int = 200, headers: dict | None = None, content_type: str = "application/json"):
        super().__init__(orjson.dumps(data), status=status, headers=headers, content_type=content_type)


def machine_api(view: Callable) -> Callable:
    """Mark a view as a machine endpoint (see ``MachineApiMiddleware``)."""
    view.machine_api = True
    return view


class MachineApiMiddleware:
    """Serves machine endpoints through a short chain; everything else through the whole of ``MIDDLEWARE``."""

    # Paths looked up at most (past that the memo starts again: /Services/<id> paths are many).
    MEMO_SIZE = 4096

    def __init__(self, get_response):
        self.get_response = get_response
        self.machine_chain = SecurityMiddleware(convert_exception_to_response(self._call_view))
        from csp.utils import build_policy

        self.policy = build_policy(settings.CONTENT_SECURITY_POLICY.get("DIRECTIVES"))
        self._matches: dict[tuple, object] = {}

    def _resolve(self, path: str):
        """The URL match of a machine path (None: not a machine view), remembered per URLconf and path."""
        key = (get_urlconf(), path)
        try:
            return self._matches[key]
        except KeyError:
            pass
        try:
            match = get_resolver(key[0]).resolve(path)
        except Resolver404:
            match = None
        if match is not None and not getattr(match.func, "machine_api", False):
            match = None
        if len(self._matches) >= self.MEMO_SIZE:
            self._matches.clear()
        self._matches[key] = match
        return match

    def __call__(self, request):
        if request.path_info.startswith(MACHINE_PREFIXES):
            match = self._resolve(request.path_info)
            if match is not None:
                request.resolver_match = match
                response = self.machine_chain(request)
                if "Content-Security-Policy" not in response:
                    response["Content-Security-Policy"] = self.policy
                return response
        return self.get_response(request)

    @staticmethod
    def _call_view(request):
        # No language is negotiated: machine answers are in their contract's own words, never translated.
        match = request.resolver_match
        return match.func(request, *match.args, **match.kwargs)
