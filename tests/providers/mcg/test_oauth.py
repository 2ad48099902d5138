"""RFC 6749 client credentials, RFC 7662 introspection and RFC 7009 revocation, across two providers."""

import base64
import time
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import tokens
from providers.mcg.models import RevokedToken

from .conftest import forged, introspect

pytestmark = pytest.mark.django_db


# --- /mcg/v1/token ----------------------------------------------------------------------


def test_token_with_http_basic_returns_a_bearer_jwt_for_the_provider(client, provider_a):
    response = client.post("/mcg/v1/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "services tokeninfo"
    assert 0 < body["expires_in"] <= tokens.conf.LIFETIME
    claims = tokens.verify(body["access_token"], audience=tokens.conf.AUDIENCE)
    assert claims["sub"] == str(provider_a.provider_id)
    assert claims["client_id"] == provider_a.client_id
    assert {"iss", "aud", "exp", "iat", "nbf", "jti"} <= set(claims)


def test_token_with_credentials_in_the_body_and_a_narrower_scope(client, provider_a):
    response = client.post(
        "/mcg/v1/token",
        {
            "grant_type": "client_credentials",
            "client_id": provider_a.client_id,
            "client_secret": provider_a.secret,
            "scope": "tokeninfo",
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "tokeninfo"


def test_token_basic_credentials_are_form_urlencoded_per_rfc6749(client, db):
    from providers.mcg import services

    provider, secret = services.create_service_provider(provider_id=7, name="Plus", service_ids=[1])
    # Our secrets are URL-safe, so encode a character that must be percent-decoded: "-" stays, "%2D" decodes to "-".
    encoded = secret.replace("-", "%2D")
    header = "Basic " + base64.b64encode(f"{provider.client_id}:{encoded}".encode()).decode()
    response = client.post("/mcg/v1/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=header)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "auth,data",
    [
        ("wrong-secret", {}),
        (None, {"client_id": "nobody", "client_secret": "x"}),
        (None, {}),
        ("Basic !!!notbase64", {}),
    ],
)
def test_token_refuses_bad_client_authentication_with_401_invalid_client(client, provider_a, auth, data):
    if auth == "wrong-secret":
        auth = "Basic " + base64.b64encode(f"{provider_a.client_id}:nope".encode()).decode()
    kwargs = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = client.post("/mcg/v1/token", {"grant_type": "client_credentials", **data}, **kwargs)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_token_refuses_an_inactive_provider(client, provider_a):
    provider_a.model.active = False
    provider_a.model.save()
    response = client.post("/mcg/v1/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 401


def test_token_refuses_two_authentication_methods_at_once(client, provider_a):
    response = client.post(
        "/mcg/v1/token",
        {"grant_type": "client_credentials", "client_id": provider_a.client_id, "client_secret": provider_a.secret},
        HTTP_AUTHORIZATION=provider_a.basic(),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "data,error",
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "admin"}, "invalid_scope"),
    ],
)
def test_token_grant_errors_follow_rfc6749_section_5_2(client, provider_a, data, error):
    response = client.post("/mcg/v1/token", data, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_token_wants_a_form_body_and_post(client, provider_a):
    response = client.post(
        "/mcg/v1/token",
        {"grant_type": "client_credentials"},
        content_type="application/json",
        HTTP_AUTHORIZATION=provider_a.basic(),
    )
    assert response.status_code == 415
    response = client.get("/mcg/v1/token")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


# --- /mcg/v1/tokeninfo --------------------------------------------------------------------


def test_introspection_of_own_token_returns_its_claims(client, provider_a):
    token = provider_a.token()
    response = introspect(client, provider_a.token(), token, token_type_hint="access_token")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    claims = tokens.verify(token, audience=tokens.conf.AUDIENCE)
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    assert body["username"] == "Clinique Nano"
    for name in ("scope", "client_id", "exp", "iat", "nbf", "sub", "aud", "iss", "jti"):
        assert body[name] == claims[name]


def test_caller_may_present_its_token_with_any_type_prefix(client, provider_a):
    response = client.post("/mcg/v1/tokeninfo", {"token": provider_a.token()}, HTTP_AUTHORIZATION=f"JWT {provider_a.token()}")
    assert response.json()["active"] is True


def test_unknown_token_type_hint_is_ignored(client, provider_a):
    response = introspect(client, provider_a.token(), provider_a.token(), token_type_hint="refresh_token")
    assert response.json()["active"] is True


def test_provider_learns_nothing_about_another_providers_token(client, provider_a, provider_b):
    response = introspect(client, provider_a.token(), provider_b.token())
    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda p: forged(alg="none", client_id=p.client_id), id="alg-none"),
        pytest.param(lambda p: forged(client_id=p.client_id), id="wrong-key"),
        pytest.param(lambda p: forged(alg="HS256", key="x" * 32, client_id=p.client_id), id="hs256-confusion"),
        pytest.param(
            lambda p: tokens.issue(subject="1", audience="urn:elsewhere", client_id=p.client_id).token, id="wrong-audience"
        ),
        pytest.param(
            lambda p: tokens.issue(subject="1", audience=tokens.conf.AUDIENCE, client_id=p.client_id, lifetime=-60).token,
            id="expired",
        ),
        pytest.param(lambda p: "not.a.jwt", id="malformed"),
        pytest.param(lambda p: "", id="empty-is-invalid-request"),
        pytest.param(lambda p: p.token()[:-4] + "AAAA", id="tampered-signature"),
    ],
)
def test_invalid_tokens_are_inactive_and_nothing_more(client, provider_a, make_token):
    token = make_token(provider_a)
    response = introspect(client, provider_a.token(), token)
    if token == "":
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        return
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_not_yet_valid_token_is_inactive(client, provider_a):
    now = int(time.time())
    with mock.patch("time.time", return_value=now + 3600):
        future = tokens.issue(subject="1", audience=tokens.conf.AUDIENCE, client_id=provider_a.client_id).token
    assert introspect(client, provider_a.token(), future).json() == {"active": False}


def test_revoked_token_is_inactive(client, provider_a):
    token = provider_a.token()
    response = client.post("/mcg/v1/revoke", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 200
    assert introspect(client, provider_a.token(), token).json() == {"active": False}


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer not.a.jwt", "Bearer {forged}", "Bearer {expired}"],
)
def test_introspection_without_valid_caller_credentials_is_401(client, provider_a, authorization):
    authorization = authorization.format(
        forged=forged(client_id=provider_a.client_id),
        expired=tokens.issue(subject="1", audience=tokens.conf.AUDIENCE, scope="tokeninfo", client_id="c", lifetime=-60).token,
    )
    response = client.post("/mcg/v1/tokeninfo", {"token": provider_a.token()}, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] in ("invalid_token", "invalid_request")
    assert "active" not in response.json()


def test_a_revoked_caller_token_cannot_introspect(client, provider_a):
    caller = provider_a.token()
    client.post("/mcg/v1/revoke", {"token": caller}, HTTP_AUTHORIZATION=provider_a.basic())
    response = introspect(client, caller, provider_a.token())
    assert response.status_code == 401


def test_a_services_only_token_cannot_introspect(client, provider_a):
    response = introspect(client, provider_a.token(scope="services"), provider_a.token())
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_mobilesaude_client_sees_its_own_user_tokens_but_not_others(client, db):
    from providers.mobilesaude import services as mobilesaude

    mobilesaude.create_client(usuario="app", password="an-app-password-long-enough")
    mobilesaude.create_client(usuario="other", password="an-app-password-long-enough")
    aud = tokens.conf.AUDIENCE
    client_token = tokens.issue(subject="mobilesaude:app", audience=aud, scope="mobilesaude", client_id="mobilesaude:app")
    user_token = tokens.issue(
        subject="user-uuid", audience=aud, scope="user", client_id="mobilesaude:app", extra={"username": "c@example.com"}
    )
    other_user_token = tokens.issue(subject="u2", audience=aud, scope="user", client_id="mobilesaude:other")
    own = introspect(client, client_token.token, user_token.token).json()
    assert own["active"] is True
    assert own["username"] == "c@example.com"
    assert own["sub"] == "user-uuid"
    assert introspect(client, client_token.token, other_user_token.token).json() == {"active": False}
    # A user's own token is not a caller that may introspect.
    assert introspect(client, user_token.token, user_token.token).status_code == 403


def test_introspection_needs_no_database_query_once_revocation_is_cached(client, provider_a):
    caller, token = provider_a.token(), provider_a.token()
    assert introspect(client, caller, token).json()["active"] is True
    with CaptureQueriesContext(connection) as queries:
        assert introspect(client, caller, token).json()["active"] is True
    assert len(queries) == 0


def test_tokeninfo_other_methods_are_405(client):
    response = client.put("/mcg/v1/tokeninfo")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --- /mcg/v1/revoke -------------------------------------------------------------------------


def test_revoke_records_the_jti_until_the_token_expires(client, provider_a):
    token = provider_a.token()
    claims = tokens.verify(token, audience=tokens.conf.AUDIENCE)
    response = client.post(
        "/mcg/v1/revoke",
        {
            "token": token,
            "token_type_hint": "access_token",
            "client_id": provider_a.client_id,
            "client_secret": provider_a.secret,
        },
    )
    assert response.status_code == 200
    revoked = RevokedToken.objects.get()
    assert revoked.jti == claims["jti"]
    assert int(revoked.expires_at.timestamp()) == claims["exp"]
    # Revoking again is fine and changes nothing.
    assert client.post("/mcg/v1/revoke", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic()).status_code == 200
    assert RevokedToken.objects.count() == 1


def test_revoke_of_another_clients_token_answers_200_and_does_nothing(client, provider_a, provider_b):
    token_b = provider_b.token()
    response = client.post("/mcg/v1/revoke", {"token": token_b}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 200
    assert not RevokedToken.objects.exists()
    assert introspect(client, provider_b.token(), token_b).json()["active"] is True


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_revoke_of_invalid_tokens_answers_200(client, provider_a, token):
    response = client.post("/mcg/v1/revoke", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 200
    assert not RevokedToken.objects.exists()


def test_revoke_requires_client_authentication_and_a_token(client, provider_a):
    response = client.post("/mcg/v1/revoke", {"token": provider_a.token()})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    response = client.post("/mcg/v1/revoke", {}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_revoked_token_cannot_call_services(client, provider_a, staff):
    from .conftest import post_services, services_body

    token = provider_a.token()
    client.post("/mcg/v1/revoke", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic())
    response = post_services(client, token, services_body(provider_a, staff))
    assert response.status_code == 401


def test_jwks_publishes_the_key_that_verifies_tokens(client, provider_a):
    import jwt

    keys = client.get("/.well-known/jwks.json").json()["keys"]
    token = provider_a.token()
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in keys if k["kid"] == kid)
    assert "d" not in jwk
    public_key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, public_key, algorithms=["ES256"], audience=tokens.conf.AUDIENCE)
    assert claims["client_id"] == provider_a.client_id


def test_jwks_and_openapi_answer_get_only(client):
    for path in ("/.well-known/jwks.json", "/mcg/v1/openapi.json"):
        assert client.get(path).status_code == 200
        response = client.post(path, {})
        assert response.status_code == 405 and response["Allow"] == "GET"
    assert client.get("/.well-known/jwks.json")["Cache-Control"] == "public, max-age=300"


def test_expired_revocations_are_purged(provider_a):
    from datetime import timedelta

    from django.utils import timezone

    from providers.mcg.tasks import purge_expired_revocations

    RevokedToken.objects.create(jti="old", expires_at=timezone.now() - timedelta(hours=1))
    RevokedToken.objects.create(jti="current", expires_at=timezone.now() + timedelta(hours=1))
    assert purge_expired_revocations() == 1
    assert list(RevokedToken.objects.values_list("jti", flat=True)) == ["current"]


def test_dropping_a_signing_key_makes_its_tokens_inactive_at_once(client, provider_a, settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def pem():
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    old, new = pem(), pem()
    settings.ACCESS_TOKEN_SIGNING_KEYS = [old]
    token = provider_a.token()
    assert introspect(client, provider_a.token(), token).json()["active"] is True
    # Rotation: the new key signs, the old one still verifies.
    settings.ACCESS_TOKEN_SIGNING_KEYS = [new, old]
    assert introspect(client, provider_a.token(), token).json()["active"] is True
    assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2
    # The old key is dropped: its tokens stop verifying, even though they were seen before.
    settings.ACCESS_TOKEN_SIGNING_KEYS = [new]
    assert introspect(client, provider_a.token(), token).json() == {"active": False}


def _issued_earlier(provider, seconds=10):
    now = time.time()
    with mock.patch("time.time", return_value=now - seconds):
        return provider.token()


def test_resetting_the_secret_voids_every_token_issued_before(client, provider_a):
    from providers.mcg import services

    old = _issued_earlier(provider_a)
    caller = provider_a.token()
    assert introspect(client, caller, old).json()["active"] is True  # cached as valid
    services.reset_client_secret(provider_a.model)
    assert introspect(client, provider_a.token(), old).json() == {"active": False}
    # The old secret no longer gets tokens.
    response = client.post("/mcg/v1/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 401


def test_deactivating_a_provider_voids_its_tokens_everywhere(client, provider_a, provider_b, staff):
    from providers.mcg import services

    from .conftest import post_services, services_body

    caller = provider_a.token()
    assert introspect(client, caller, provider_a.token()).json()["active"] is True
    services.set_active(provider_a.model, False)
    assert introspect(client, caller, provider_a.token()).status_code == 401
    assert post_services(client, caller, services_body(provider_a, staff)).status_code == 401
    # Others are not affected.
    assert introspect(client, provider_b.token(), provider_b.token()).json()["active"] is True


def test_too_many_form_fields_is_a_json_400(client, provider_a, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=x" for i in range(20))
    response = client.post(
        "/mcg/v1/tokeninfo",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {provider_a.token()}",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
