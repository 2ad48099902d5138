"""What the portal's machine APIs (MCG's service-provider API, Mobile Saúde's endpoints) share.

- ``endpoint(contract, *methods)``: the one base of a machine endpoint. CSRF-exempt, 405 with
  ``Allow`` for other methods, optionally 415 for another body media type, unreadable or
  oversized bodies answered as errors, ``Cache-Control: no-store`` unless the view says otherwise.
- ``InboundError`` and its kinds (``MethodNotAllowed``, ``UnsupportedMediaType``,
  ``BodyTooLarge``, ``MalformedBody``): the one error hierarchy. A view raises them; the
  endpoint's ``Contract`` writes them in its API's own shape and words (MCG: RFC 6749-shaped
  ``{"error", "error_description"}``; Mobile Saúde: ``{"mensagem"}`` in Portuguese).
- ``read_json``: a JSON body within a size limit, UTF-8, no NaN/Infinity, only storable text.
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

import functools
import json
from collections.abc import Callable

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.shortcuts import render
from django.urls import Resolver404, get_resolver, get_urlconf, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

# Only paths under these prefixes are looked up: every other request goes down the full chain at once.
MACHINE_PREFIXES = ("/mcg/v1/", "/.well-known/", "/Services", "/integrations/mobilesaude/")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class JsonAnswer(HttpResponse):
    """A JSON answer (orjson: non-ASCII text as UTF-8, keys in the order given)."""

    def __init__(self, data, *, status: int = 200, headers: dict | None = None, content_type: str = "application/json"):
        super().__init__(orjson.dumps(data), status=status, headers=headers, content_type=content_type)


# --- Errors ----------------------------------------------------------------------------------


class InboundError(Exception):
    """A request an endpoint refuses. ``message`` (when given) is already in the contract's words."""

    status = 400

    def __init__(self, message: str = "", *, status: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})


class MethodNotAllowed(InboundError):
    status = 405

    def __init__(self, allowed: str):
        super().__init__(headers={"Allow": allowed})
        self.allowed = allowed


class UnsupportedMediaType(InboundError):
    status = 415

    def __init__(self, media_type: str):
        super().__init__()
        self.media_type = media_type


class BodyTooLarge(InboundError):
    status = 413

    def __init__(self, limit: int | None = None):
        super().__init__()
        self.limit = limit


class MalformedBody(InboundError):
    """The body is not what the media type says: not JSON, not UTF-8, not storable text, unreadable."""

    def __init__(self, reason: str = "unreadable"):
        super().__init__()
        self.reason = reason


class Contract:
    """How one API writes its errors: ``render`` turns any InboundError into that API's answer."""

    def render(self, error: InboundError) -> HttpResponse:
        raise NotImplementedError


# --- Bodies ----------------------------------------------------------------------------------


def media_type(request) -> str:
    return (request.META.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()


def has_body(request) -> bool:
    return request.META.get("CONTENT_LENGTH", "") not in ("", "0")


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def read_json(request, *, limit: int, accepts: Callable[[str], bool] = lambda t: t == "application/json", storable: bool = True):
    """The request's JSON body: UnsupportedMediaType, BodyTooLarge or MalformedBody when it is not a usable one.

    With ``storable``, text no database can hold (NUL, lone surrogates) anywhere in it is refused
    here; without, the request's own schema says so field by field.
    """
    from providers.jsonbody import has_unstorable_text

    if not accepts(media_type(request)):
        raise UnsupportedMediaType("application/json")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        declared = "0"
    if int(declared) > limit:
        raise BodyTooLarge(limit)
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(limit)
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedBody("not_json")
    if storable and has_unstorable_text(data):
        raise MalformedBody("unstorable_text")
    return data


# --- Endpoints -------------------------------------------------------------------------------


def endpoint(contract: Contract, *methods: str, body_media_type: str | None = None):
    """A machine endpoint answering ``methods``; every InboundError it raises is written by ``contract``.

    With ``body_media_type``, a request carrying a body of another media type is refused (415)
    before the view runs.
    """
    allowed = ", ".join(methods)

    def decorator(view):
        @machine_api
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise MethodNotAllowed(allowed)
                if body_media_type and media_type(request) != body_media_type and has_body(request):
                    raise UnsupportedMediaType(body_media_type)
                response = view(request, *args, **kwargs)
            except RequestDataTooBig:
                response = contract.render(BodyTooLarge())
            except SuspiciousOperation:
                response = contract.render(MalformedBody())
            except InboundError as error:
                response = contract.render(error)
            if "Cache-Control" not in response:
                for name, value in NO_STORE.items():
                    response[name] = value
            return response

        return wrapper

    return decorator


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


def api_reference(title, openapi_url_name: str) -> Callable:
    """A GET view showing an API's browsable reference (Swagger UI from the portal's static files)."""

    @require_GET
    def view(request):
        context = {"title": title, "openapi_url": reverse(openapi_url_name), "try_it": settings.API_DOCS_TRY_IT}
        return render(request, "api_docs.html", context)

    return view
