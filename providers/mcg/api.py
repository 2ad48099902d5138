"""The service-provider API: token (RFC 6749 §4.4), tokeninfo (RFC 7662, RFC 9701), revoke (RFC 7009),
/Services, the JWKS and the authorization server metadata (RFC 8414).

Every error is ``{"error": <code>, "error_description": <text>[, "field_errors": {...}]}``.
"""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy

import tokens
from providers import inbound, ratelimit
from providers.inbound import JsonAnswer

from . import oauth, schemas, selectors, services
from .conf import conf
from .models import ServiceProvider
from .oauth import ApiError

FORM = "application/x-www-form-urlencoded"


class McgContract(inbound.Contract):
    """MCG's errors: ``{"error", "error_description"[, "field_errors"]}`` (RFC 6749 §5.2 codes), in English."""

    def render(self, error: inbound.InboundError) -> JsonAnswer:
        api_error = error if isinstance(error, ApiError) else self.api_error(error)
        body = {"error": api_error.error, "error_description": api_error.description}
        if api_error.field_errors:
            body["field_errors"] = api_error.field_errors
        return JsonAnswer(body, status=api_error.status, headers={**error.headers, **api_error.headers})

    @staticmethod
    def api_error(error: inbound.InboundError) -> ApiError:
        if isinstance(error, inbound.MethodNotAllowed):
            return ApiError("method_not_allowed", f"Use {error.allowed} on this URL.", 405)
        if isinstance(error, inbound.UnsupportedMediaType):
            return ApiError("invalid_request", f"Send the body as {error.media_type}.", 415)
        if isinstance(error, inbound.BodyTooLarge):
            text = f"The body must be at most {error.limit} bytes." if error.limit else "The request body is too large."
            return ApiError("invalid_request", text, 413)
        if isinstance(error, inbound.MalformedBody):
            return ApiError("invalid_request", MALFORMED.get(error.reason, "The request could not be read."), 400)
        return ApiError("invalid_request", error.message or "The request could not be read.", error.status)


MALFORMED = {
    "not_json": "The body is not valid JSON.",
    "unstorable_text": "The body holds characters that are not text (NUL or lone surrogates).",
}
CONTRACT = McgContract()


def api_view(*methods: str, content_type: str | None = None):
    """A JSON API endpoint of this API (see ``providers.inbound.endpoint``), its errors in MCG's shape."""
    return inbound.endpoint(CONTRACT, *methods, body_media_type=content_type)


@api_view("POST", content_type=FORM)
def token(request):
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4) for service providers."""
    provider = oauth.authenticate_client(request)
    grant_type = request.POST.get("grant_type", "")
    if not grant_type:
        raise ApiError("invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        raise ApiError("unsupported_grant_type", "Only the client_credentials grant is supported.")
    try:
        issued = services.issue_provider_token(provider, scope=request.POST.get("scope"))
    except services.InvalidScope as exc:
        raise ApiError("invalid_scope", str(exc))
    return JsonAnswer(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": issued.expires_at - issued.claims["iat"],
            "scope": issued.claims["scope"],
        }
    )


# Token kinds allowed to ask about tokens: providers' tokens and Mobile Saúde client tokens (not per-user tokens).
INTROSPECTION_SCOPES = {"tokeninfo", "mobilesaude"}
INTROSPECTION_JWT = "application/token-introspection+jwt"


def _wants_jwt(request) -> bool:
    """Whether the caller asked for a signed introspection answer (RFC 9701 §4): that media type, not refused by q=0."""
    accept = request.META.get("HTTP_ACCEPT", "")
    if INTROSPECTION_JWT not in accept.lower():
        return False
    for item in accept.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        if media_type.lower() == INTROSPECTION_JWT:
            weights = [p.partition("=")[2].strip() for p in params if p.replace(" ", "").lower().startswith("q=")]
            try:
                return not weights or float(weights[0]) > 0
            except ValueError:
                return False
    return False


def _introspection_jwt(answer: dict, caller: dict) -> HttpResponse:
    """RFC 9701 §5: the answer as a JWT signed with the portal's keys, for the caller (``aud``)."""
    claims = {
        "iss": tokens.conf.ISSUER,
        "aud": caller["client_id"],
        "iat": int(time.time()),
        "token_introspection": answer,
    }
    return HttpResponse(tokens.sign(claims, typ="token-introspection+jwt"), content_type=INTROSPECTION_JWT)


@api_view("POST", content_type=FORM)
def tokeninfo(request):
    """Token introspection (RFC 7662), answered for the caller: others' tokens are ``{"active": false}``.

    The caller authenticates with its client secret (HTTP Basic or the form body) or one of the
    portal's access tokens (``Authorization: <type> <JWT>``).
    """
    token_value = request.POST.get("token", "")
    claims = selectors.token_claims(token_value) if token_value else None
    caller, revoked = oauth.authorize_caller(request, scopes=INTROSPECTION_SCOPES, about=claims)
    if not token_value:
        raise ApiError("invalid_request", "token is required.")
    answer = selectors.introspection(claims, caller=caller, revoked=revoked)
    if _wants_jwt(request):
        return _introspection_jwt(answer, caller)
    return JsonAnswer(answer)


@api_view("POST", content_type=FORM)
def revoke(request):
    """Token revocation (RFC 7009): a client revokes its own tokens; anything else is answered 200 all the same."""
    caller, _ = oauth.authorize_caller(request, scopes=INTROSPECTION_SCOPES, client_first=True)
    token_value = request.POST.get("token", "")
    if not token_value:
        raise ApiError("invalid_request", "token is required.")
    services.revoke_token(token_value, client_id=caller["client_id"])
    return HttpResponse(status=200)


@api_view("GET")
def jwks(request):
    response = JsonAnswer(tokens.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


def public_url(name: str) -> str:
    """The absolute URL of a named route, on ``PUBLIC_BASE_URL``."""
    return settings.PUBLIC_BASE_URL + reverse(name)


def server_metadata() -> dict:
    """RFC 8414 authorization server metadata: where the endpoints are and what they accept."""
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": tokens.conf.ISSUER,
        "token_endpoint": public_url("mcg-token"),
        "introspection_endpoint": public_url("mcg-tokeninfo"),
        "revocation_endpoint": public_url("mcg-revoke"),
        "jwks_uri": public_url("jwks"),
        "grant_types_supported": ["client_credentials"],
        # No authorization endpoint: no response type is supported.
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": list(services.PROVIDER_SCOPES),
        "introspection_signing_alg_values_supported": [tokens.ALGORITHM],
        "service_documentation": public_url("mcg-docs"),
    }


@api_view("GET")
def metadata(request):
    response = JsonAnswer(server_metadata())
    response["Cache-Control"] = "public, max-age=300"
    return response


@api_view("GET")
def openapi(request):
    return JsonAnswer(schemas.openapi_schema(request.build_absolute_uri("/")))


docs = inbound.api_reference(gettext_lazy("Service-provider API"), "mcg-openapi")


def _provider_for(request) -> ServiceProvider:
    claims = oauth.authenticate_bearer(request, scopes={"services"})
    provider = ServiceProvider.objects.filter(client_id=claims.get("client_id", ""), active=True).first()
    if provider is None or str(provider.provider_id) != claims.get("sub"):
        raise ApiError("invalid_token", "The access token is not a service provider's.", 401, 'Bearer realm="mcg"')
    return provider


def _request_url(request, service_request) -> str:
    return request.build_absolute_uri(reverse("mcg-service-request", args=[service_request.public_id]))


@api_view("POST")
def services_endpoint(request):
    """Consume a service: deliver a notification, advertisement or coupon to a portal user."""
    provider = _provider_for(request)
    retry_after = ratelimit.hit(conf.SERVICES_RATE_LIMIT, "mcg-services", str(provider.provider_id))
    if retry_after:
        raise ApiError(
            "rate_limited",
            f"Too many requests from this provider; try again in {retry_after} s.",
            429,
            headers={"Retry-After": str(retry_after)},
        )
    data = inbound.read_json(request, limit=conf.MAX_BODY_BYTES)
    try:
        call = schemas.parse_service_call(data)
        key = schemas.parse_idempotency_key(request.headers.get("Idempotency-Key"))
        service_request = services.submit_service_request(provider, call, idempotency_key=key)
    except schemas.InvalidBody as exc:
        raise ApiError("invalid_request", exc.message, 400, field_errors=exc.field_errors)
    except services.Forbidden as exc:
        raise ApiError("forbidden", str(exc), 403)
    except services.NotFound as exc:
        raise ApiError("not_found", str(exc), 404)
    except services.Duplicate as exc:
        raise ApiError(
            "conflict",
            "A request with this Idempotency-Key was already accepted; nothing was sent again.",
            409,
            headers={"Location": _request_url(request, exc.existing)},
        )
    location = _request_url(request, service_request)
    response = JsonAnswer(schemas.service_request_json(service_request, location), status=201)
    response["Location"] = location
    return response


@api_view("GET")
def service_request_detail(request, request_id: str):
    """A request this provider created (others' are 404)."""
    provider = _provider_for(request)
    try:
        public_id = uuid.UUID(request_id)
    except ValueError:
        public_id = None
    service_request = selectors.service_request_for(provider, public_id) if public_id else None
    if service_request is None:
        raise ApiError("not_found", "No request of yours has this id.", 404)
    return JsonAnswer(schemas.service_request_json(service_request, _request_url(request, service_request)))
