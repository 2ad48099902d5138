"""The simulated EDIN: the two login steps as seeds/edin-auth.uk.txt documents them, one call needing
the SID, a sign-in page standing for EDIN's own site, and controls for tests."""

from __future__ import annotations

import functools
import json
from dataclasses import asdict

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..control import control_endpoint
from ..faults import with_faults
from . import state

SID_COOKIE = "SID"
ACCOUNT_FIELD_LIMITS = {"email": 254, "password": 128, "name": 200, "company": 200}


def _error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _multipart_only(view):
    """EDIN's login steps take multipart/form-data and nothing else."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.content_type != "multipart/form-data":
            return _error("Content-Type must be multipart/form-data", 415)
        return view(request, *args, **kwargs)

    return wrapper


@csrf_exempt
@require_http_methods(["POST"])
@with_faults("edin")
@_multipart_only
def auth_uuid(request):
    """Step 1: email → ``{"isCaptcha": bool, "token": uuid}``; unknown emails get a token too (no enumeration)."""
    email = state.normalize_email(request.POST.get("email", ""))
    if not email:
        return _error("email is required", 400)
    captcha = state.captcha_required(email)
    return JsonResponse({"isCaptcha": captcha, "token": state.issue_login_token(email, captcha)})


@csrf_exempt
@require_http_methods(["POST"])
@with_faults("edin")
@_multipart_only
def auth(request):
    """Step 2: token and password → 200 and ``Set-Cookie: SID=...``."""
    token, password = request.POST.get("token", ""), request.POST.get("password", "")
    if not token or not password:
        return _error("token and password are required", 400)
    login = state.take_login_token(token)
    if login is None:
        return _error("token is unknown, used or expired", 401)
    if login["captcha"]:
        return _error("captcha required", 403, isCaptcha=True)
    if not state.check_password(login["email"], password):
        state.add_failure(login["email"])
        return _error("wrong email or password", 401)
    state.clear_failures(login["email"])
    response = HttpResponse(status=200)
    response.set_cookie(SID_COOKIE, state.open_session(login["email"]), httponly=True, samesite="Lax")
    return response


@require_http_methods(["GET"])
@with_faults("edin")
def profile(request):
    """An authenticated call: who the SID is signed in as; 401 when the session is gone."""
    email = state.use_session(request.COOKIES.get(SID_COOKIE, ""))
    if email is None:
        return _error("session expired", 401)
    account = state.get_account(email) or {}
    return JsonResponse({"email": email, "name": account.get("name", ""), "company": account.get("company", "")})


@require_http_methods(["GET", "POST"])
def site_sign_in(request):
    """EDIN's own site, simulated: a person signs in and solves the captcha, which clears the flag."""
    signed_in = False
    error = ""
    email = state.normalize_email(request.POST.get("email", ""))
    if request.method == "POST":
        if not request.POST.get("not_a_robot"):
            error = _("Tick the captcha box.")
        elif not state.check_password(email, request.POST.get("password", "")):
            error = _("Wrong email or password.")
        else:
            state.clear_failures(email)
            signed_in = True
    return render(
        request,
        "sandbox_edin/sign_in.html",
        {"email": email, "error": error, "signed_in": signed_in},
        status=400 if error else 200,
    )


@csrf_exempt
@require_http_methods(["GET", "PUT", "POST", "DELETE"])
@control_endpoint
def control(request):
    """GET shows ``{idle_seconds, captcha_after}``; PUT/POST changes them; DELETE restores the settings' values."""
    if request.method == "DELETE":
        state.set_control(None)
    elif request.method in ("PUT", "POST"):
        try:
            data = json.loads(request.body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("Send a JSON object.")
            state.set_control(state.Control.from_dict(data))
        except (ValueError, TypeError) as exc:
            return _error(str(exc), 400)
    return JsonResponse(asdict(state.get_control()))


@csrf_exempt
@require_http_methods(["POST"])
@control_endpoint
def accounts(request):
    """Add a test account: ``{"email", "password", "name"?, "company"?, "captcha"?}``."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _error("Send a JSON object.", 400)
    if not isinstance(data, dict) or not data.get("email") or not data.get("password"):
        return _error("email and password are required", 400)
    fields = {name: str(data.get(name, "")) for name in ("email", "password", "name", "company")}
    if any(len(fields[name]) > limit for name, limit in ACCOUNT_FIELD_LIMITS.items()):
        return _error("email is at most 254 characters, password 128, name and company 200", 400)
    email = state.normalize_email(fields["email"])
    try:
        state.add_account(email, fields["password"], fields["name"], fields["company"])
    except state.TooManyAccounts:
        return _error("too many test accounts added today", 429)
    if data.get("captcha"):
        for _i in range(state.get_control().captcha_after):
            state.add_failure(email)
    return JsonResponse({"email": email, "captcha": state.captcha_required(email)}, status=201)


@csrf_exempt
@require_http_methods(["DELETE"])
@control_endpoint
def sessions(request):
    """End every session, as EDIN does when it drops them on its side."""
    state.end_all_sessions()
    return HttpResponse(status=204)
