"""A simulator of Bimedoc's partner API and of its app's SSO landing page, as the seed documents them.

Answers follow a Django REST framework server's habits (the real one's): field
errors as ``{"field": ["message"]}`` with 400, ``{"detail": ...}`` with 401.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from providers.bimedoc.conf import conf as bimedoc_conf

from .. import faults
from ..control import control_endpoint
from ..faults import with_faults
from .models import RemotePharmacy, RemoteUser, SsoToken

SSO_TOKEN_LIFETIME = dt.timedelta(seconds=120)
JWT_LIFETIME = dt.timedelta(days=1)
FUNCTIONS = ("titulaire", "adjoint", "stagiaire")
REQUIRED = "Ce champ est obligatoire."
USER_FIELDS = ("first_name", "last_name", "mobile_number", "rpps_number", "gender", "function")
PHARMACY_FIELDS = ("name", "phone_number", "street", "city", "postcode")
FIELD_LIMITS = {"first_name": 150, "last_name": 150, "mobile_number": 32, "rpps_number": 32, "name": 200,
                "phone_number": 32, "street": 255, "city": 120, "postcode": 12}  # fmt: skip


def _jwt_key() -> str:
    return hashlib.sha256(("sandbox-bimedoc-jwt:" + settings.SECRET_KEY).encode()).hexdigest()


def _unauthorized(detail="Informations d'authentification non fournies."):
    return JsonResponse({"detail": detail}, status=401)


def _partner_ok(request) -> bool:
    expected = f"Partner {bimedoc_conf.PARTNER_ID}:{bimedoc_conf.API_KEY}"
    return secrets.compare_digest(request.headers.get("Authorization", ""), expected)


def _body(request) -> dict | None:
    """The request's fields, from JSON or a form (None when unreadable)."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return request.POST.dict()


def _text(data, name) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def _check_lengths(data, names, errors):
    for name in names:
        limit = FIELD_LIMITS.get(name)
        if limit and len(_text(data, name)) > limit:
            errors.setdefault(name, []).append(f"Assurez-vous que ce champ comporte au plus {limit} caractères.")


@csrf_exempt
@require_POST
@with_faults("bimedoc")
def create_user(request):
    """POST /auth/user/ (Partner header): create a user, return its id and a JWT ``token``."""
    if not _partner_ok(request):
        return _unauthorized()
    data = _body(request)
    if data is None:
        return JsonResponse({"detail": "JSON parse error."}, status=400)
    errors: dict[str, list[str]] = {}
    email = _text(data, "email").lower()
    if not email:
        errors["email"] = [REQUIRED]
    elif "@" not in email or "." not in email.rsplit("@", 1)[-1]:
        errors["email"] = ["Saisissez une adresse e-mail valide."]
    if not _text(data, "password"):
        errors["password"] = [REQUIRED]
    gender = _text(data, "gender")
    if gender and gender not in ("m", "f"):
        errors["gender"] = [f"« {gender} » n'est pas un choix valide."]
    function = _text(data, "function")
    if function and function not in FUNCTIONS:
        errors["function"] = [f"« {function} » n'est pas un choix valide."]
    _check_lengths(data, USER_FIELDS, errors)
    pharmacy = None
    pharmacy_id = _text(data, "pharmacy")
    if pharmacy_id:
        pharmacy = RemotePharmacy.objects.filter(pk=int(pharmacy_id)).first() if pharmacy_id.isdigit() else None
        if pharmacy is None:
            errors["pharmacy"] = [f"Clé primaire « {pharmacy_id} » non valide - l'objet n'existe pas."]
    elif function and function != "titulaire":
        errors["function"] = ["Le premier utilisateur d'une pharmacie est « titulaire »."]
    if errors:
        return JsonResponse(errors, status=400)
    try:
        with transaction.atomic():
            user = RemoteUser.objects.create(email=email, pharmacy=pharmacy, **{name: _text(data, name) for name in USER_FIELDS})
    except IntegrityError:
        RemoteUser.objects.filter(email=email).update(duplicate_attempts=F("duplicate_attempts") + 1)
        return JsonResponse({"email": ["Un utilisateur avec cet email existe déjà."]}, status=400)
    now = timezone.now()
    claims = {
        "user_id": str(user.pk),
        "username": user.email,
        "email": user.email,
        "exp": int((now + JWT_LIFETIME).timestamp()),
        "orig_iat": int(now.timestamp()),
    }
    token = jwt.encode(claims, _jwt_key(), algorithm="HS256")
    return JsonResponse(
        {
            "id": str(user.pk),
            "email": user.email,
            **{name: getattr(user, name) for name in USER_FIELDS},
            "pharmacy": user.pharmacy_id,
            "token": token,
        },
        status=201,
    )


@csrf_exempt
@require_POST
@with_faults("bimedoc")
def create_pharmacy(request):
    """POST /auth/pharmacy/ (JWT header of the user created first): create a pharmacy and link that user."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "JWT" or not token:
        return _unauthorized()
    try:
        claims = jwt.decode(token, _jwt_key(), algorithms=["HS256"])
    except jwt.ExpiredSignatureError:
        return _unauthorized("La signature a expiré.")
    except jwt.InvalidTokenError:
        return _unauthorized("Erreur de décodage de la signature.")
    try:
        user = RemoteUser.objects.filter(pk=uuid.UUID(str(claims.get("user_id")))).first()
    except ValueError:
        user = None
    if user is None:
        return _unauthorized("Utilisateur introuvable.")
    data = _body(request)
    if data is None:
        return JsonResponse({"detail": "JSON parse error."}, status=400)
    errors: dict[str, list[str]] = {}
    if not _text(data, "name"):
        errors["name"] = [REQUIRED]
    _check_lengths(data, PHARMACY_FIELDS, errors)
    if errors:
        return JsonResponse(errors, status=400)
    with transaction.atomic():
        pharmacy = RemotePharmacy.objects.create(created_by=user, **{name: _text(data, name) for name in PHARMACY_FIELDS})
        RemoteUser.objects.filter(pk=user.pk).update(pharmacy=pharmacy, function=user.function or "titulaire")
    return JsonResponse({"id": pharmacy.pk, **{name: getattr(pharmacy, name) for name in PHARMACY_FIELDS}}, status=201)


@csrf_exempt
@require_POST
@with_faults("bimedoc")
def create_sso_token(request):
    """POST /auth/ssoToken/ (Partner header): a single-use sign-in token for a user, valid 120 s."""
    if not _partner_ok(request):
        return _unauthorized()
    data = _body(request)
    if data is None:
        return JsonResponse({"detail": "JSON parse error."}, status=400)
    user_id = _text(data, "user")
    if not user_id:
        return JsonResponse({"user": [REQUIRED]}, status=400)
    try:
        user = RemoteUser.objects.filter(pk=uuid.UUID(user_id)).first()
    except ValueError:
        user = None
    if user is None:
        return JsonResponse({"user": [f"Clé primaire « {user_id} » non valide - l'objet n'existe pas."]}, status=400)
    sso = SsoToken.objects.create(token=secrets.token_urlsafe(32), user=user, expires_at=timezone.now() + SSO_TOKEN_LIFETIME)
    return JsonResponse({"token": sso.token})


@require_GET
def sso_landing(request):
    """The app's /sso/ page: signs the token's user in to the pharmacy, once, within 120 s; or says why not."""
    pharmacy_id = request.GET.get("pharmacy", "")
    token = request.GET.get("sso_token", "")
    context = {"pharmacy_id": pharmacy_id}
    if not pharmacy_id or not token:
        context["error"] = _("The link is incomplete: it needs a pharmacy and an sso_token.")
        return render(request, "sandbox_bimedoc/sso.html", context, status=400)
    now = timezone.now()
    with transaction.atomic():
        sso = SsoToken.objects.select_for_update(of=("self",)).select_related("user__pharmacy").filter(token=token).first()
        if sso is None:
            context["error"] = _("This sign-in token is unknown.")
        elif sso.used_at is not None:
            context["error"] = _("This sign-in token has already been used.")
        elif sso.expires_at <= now:
            context["error"] = _("This sign-in token has expired (tokens are valid for 120 seconds).")
        elif sso.user.pharmacy_id is None or str(sso.user.pharmacy_id) != pharmacy_id:
            context["error"] = _("This user does not belong to pharmacy %(id)s.") % {"id": pharmacy_id}
        else:
            sso.used_at = now
            sso.save(update_fields=["used_at"])
    if "error" in context:
        return render(request, "sandbox_bimedoc/sso.html", context, status=403)
    context.update(signed_in=sso.user, pharmacy=sso.user.pharmacy)
    return render(request, "sandbox_bimedoc/sso.html", context)


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@control_endpoint
def state(request):
    """GET: what the simulator holds (counts, for tests and benchmarks); DELETE: forget everything."""
    if request.method == "DELETE":
        SsoToken.objects.all().delete()
        RemoteUser.objects.all().delete()
        RemotePharmacy.objects.all().delete()
        faults.reset_requests("bimedoc")
    per_owner = RemotePharmacy.objects.values("created_by").annotate(n=Count("pk")).filter(n__gt=1)
    per_person = (
        RemoteUser.objects.exclude(rpps_number="")
        .values("first_name", "last_name", "rpps_number")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    return JsonResponse(
        {
            "users": RemoteUser.objects.count(),
            "pharmacies": RemotePharmacy.objects.count(),
            "sso_tokens": SsoToken.objects.count(),
            # Creations Bimedoc refused because the email was taken (a resend after an unknown outcome, say).
            "duplicate_user_attempts": sum(RemoteUser.objects.values_list("duplicate_attempts", flat=True)),
            # Users are unique by email, so a person's user can only be created twice under two emails:
            # same first name, last name and RPPS number.
            "users_created_twice": sum(row["n"] - 1 for row in per_person),
            # A second pharmacy created with the same titulaire's JWT.
            "pharmacies_created_twice": sum(row["n"] - 1 for row in per_owner),
            # Every request the partner API received (faulted or not), to compare with the portal's audit trail.
            "requests": faults.requests_received("bimedoc"),
        }
    )
