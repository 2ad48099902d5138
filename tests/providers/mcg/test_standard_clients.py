"""What standard OAuth clients and gateways rely on: metadata (RFC 8414), client secret authentication at
tokeninfo and revoke (RFC 7662 §2.1, RFC 7009 §2.1), and signed introspection answers (RFC 9701)."""

import base64

import jwt
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

import tokens
from providers import revocation
from providers.mcg import services
from providers.mcg.models import RevokedToken

pytestmark = pytest.mark.django_db


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# --- /.well-known/oauth-authorization-server -----------------------------------------------------


def test_metadata_names_the_endpoints_on_the_public_base_url(client, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example.com"
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["issuer"] == tokens.conf.ISSUER
    assert body["token_endpoint"] == "https://portal.example.com/mcg/v1/token"
    assert body["introspection_endpoint"] == "https://portal.example.com/mcg/v1/tokeninfo"
    assert body["revocation_endpoint"] == "https://portal.example.com/mcg/v1/revoke"
    assert body["jwks_uri"] == "https://portal.example.com/.well-known/jwks.json"
    assert body["grant_types_supported"] == ["client_credentials"]
    for name in ("token", "introspection", "revocation"):
        assert body[f"{name}_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert body["scopes_supported"] == ["services", "tokeninfo"]
    assert body["introspection_signing_alg_values_supported"] == ["ES256"]
    assert client.post("/.well-known/oauth-authorization-server").status_code == 405


def test_metadata_issuer_is_the_iss_of_the_tokens(client, provider_a):
    issuer = client.get("/.well-known/oauth-authorization-server").json()["issuer"]
    assert jwt.decode(provider_a.token(), options={"verify_signature": False})["iss"] == issuer


# --- tokeninfo with client authentication ----------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_client_authenticated_with_its_secret_sees_its_own_tokens_in_full(client, provider_a, provider_b, method):
    token = provider_a.token()
    if method == "client_secret_basic":
        response = client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic())
    else:
        body = {"token": token, "client_id": provider_a.client_id, "client_secret": provider_a.secret}
        response = client.post("/mcg/v1/tokeninfo", body)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    answer = response.json()
    claims = tokens.verify(token, audience=tokens.conf.AUDIENCE)
    assert answer["active"] is True
    assert answer["client_id"] == provider_a.client_id
    assert answer["jti"] == claims["jti"]
    # Another client's token: nothing but inactive.
    other = client.post("/mcg/v1/tokeninfo", {"token": provider_b.token()}, HTTP_AUTHORIZATION=provider_a.basic())
    assert other.json() == {"active": False}


@pytest.mark.parametrize(
    "authorization,body",
    [
        pytest.param("wrong-secret", {}, id="wrong-secret"),
        pytest.param("unknown-client", {}, id="unknown-client"),
        pytest.param("Basic !!!notbase64", {}, id="malformed-basic"),
        pytest.param("", {"client_id": "{client_id}", "client_secret": "nope"}, id="post-wrong-secret"),
        pytest.param("", {"client_id": "{client_id}"}, id="post-no-secret"),
    ],
)
def test_bad_client_authentication_is_401_invalid_client_per_rfc6749_5_2(client, provider_a, authorization, body):
    if authorization == "wrong-secret":
        authorization = basic(provider_a.client_id, "nope")
    elif authorization == "unknown-client":
        authorization = basic("mcg-0-nobody", provider_a.secret)
    body = {k: v.format(client_id=provider_a.client_id) for k, v in body.items()}
    kwargs = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    for path in ("/mcg/v1/tokeninfo", "/mcg/v1/revoke"):
        response = client.post(path, {"token": provider_a.token(), **body}, **kwargs)
        assert response.status_code == 401, path
        assert response["WWW-Authenticate"] == 'Basic realm="mcg"'
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"] == "invalid_client"
        assert set(response.json()) == {"error", "error_description"}


def test_two_authentication_methods_at_once_are_refused(client, provider_a):
    body = {"token": provider_a.token(), "client_id": provider_a.client_id, "client_secret": provider_a.secret}
    response = client.post("/mcg/v1/tokeninfo", body, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    response = client.post("/mcg/v1/tokeninfo", body, HTTP_AUTHORIZATION=f"Bearer {provider_a.token()}")
    assert response.status_code == 400


def test_no_credentials_at_tokeninfo_offers_both_schemes(client, provider_a):
    response = client.post("/mcg/v1/tokeninfo", {"token": provider_a.token()})
    assert response.status_code == 401
    assert "Bearer" in response["WWW-Authenticate"] and "Basic" in response["WWW-Authenticate"]


def test_a_known_secret_is_checked_without_a_database_query(client, provider_a):
    token = provider_a.token()
    assert client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic()).json()["active"]
    # However long after: this process's memory may be untrusted and short-lived cache entries gone.
    # The client's state (cached until it changes) is all there is to read about a secret caller.
    revocation.memory.lose()
    cache.delete(revocation.REVOKED_KEY.format(revocation.client_caller(provider_a.client_id, 0)["jti"]))
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.json()["active"] is True
    assert len(queries) == 0


def test_a_reset_secret_stops_working_at_once_and_the_new_one_works(client, provider_a):
    token = provider_a.token()
    old = provider_a.basic()
    assert client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=old).status_code == 200
    new_secret = services.reset_client_secret(provider_a.model)
    response = client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=old)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    fresh = services.issue_provider_token(provider_a.model).token
    response = client.post("/mcg/v1/tokeninfo", {"token": fresh}, HTTP_AUTHORIZATION=basic(provider_a.client_id, new_secret))
    assert response.json()["active"] is True


def test_a_deactivated_client_cannot_authenticate_and_a_reactivated_one_can(client, provider_a):
    token = provider_a.token()
    assert client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic()).status_code == 200
    services.set_active(provider_a.model, False)
    assert client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic()).status_code == 401
    services.set_active(provider_a.model, True)
    fresh = services.issue_provider_token(provider_a.model).token
    response = client.post("/mcg/v1/tokeninfo", {"token": fresh}, HTTP_AUTHORIZATION=provider_a.basic())
    assert response.json()["active"] is True
    # Tokens from before the deactivation stay void.
    assert client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic()).json() == {"active": False}


# --- revoke with each kind of caller ------------------------------------------------------------------


@pytest.mark.parametrize("caller", ["client_secret_basic", "client_secret_post", "bearer"])
def test_revoke_accepts_every_kind_of_caller(client, provider_a, caller):
    token = provider_a.token()
    if caller == "client_secret_basic":
        response = client.post("/mcg/v1/revoke", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic())
    elif caller == "client_secret_post":
        body = {"token": token, "client_id": provider_a.client_id, "client_secret": provider_a.secret}
        response = client.post("/mcg/v1/revoke", body)
    else:
        response = client.post("/mcg/v1/revoke", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {provider_a.token()}")
    assert response.status_code == 200
    assert RevokedToken.objects.filter(client_id=provider_a.client_id).count() == 1
    assert client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=provider_a.basic()).json() == {"active": False}


def test_a_bearer_caller_cannot_revoke_another_clients_token(client, provider_a, provider_b):
    token_b = provider_b.token()
    response = client.post("/mcg/v1/revoke", {"token": token_b}, HTTP_AUTHORIZATION=f"Bearer {provider_a.token()}")
    assert response.status_code == 200
    assert not RevokedToken.objects.exists()


def test_a_services_only_token_cannot_revoke(client, provider_a):
    token = provider_a.token()
    response = client.post("/mcg/v1/revoke", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {provider_a.token('services')}")
    assert response.status_code == 403
    assert not RevokedToken.objects.exists()


# --- RFC 9701: signed introspection answers -------------------------------------------------------------


def _verify_with_jwks(client, value: str, *, audience: str) -> dict:
    keys = {k["kid"]: k for k in client.get("/.well-known/jwks.json").json()["keys"]}
    header = jwt.get_unverified_header(value)
    key = jwt.PyJWK(keys[header["kid"]])
    return jwt.decode(value, key, algorithms=["ES256"], audience=audience, issuer=tokens.conf.ISSUER)


@pytest.mark.parametrize("caller", ["client_secret_basic", "bearer"])
def test_a_caller_asking_for_a_jwt_gets_the_answer_signed(client, provider_a, caller):
    token = provider_a.token()
    authorization = provider_a.basic() if caller == "client_secret_basic" else f"Bearer {provider_a.token()}"
    plain = client.post("/mcg/v1/tokeninfo", {"token": token}, HTTP_AUTHORIZATION=authorization).json()
    response = client.post(
        "/mcg/v1/tokeninfo",
        {"token": token},
        HTTP_AUTHORIZATION=authorization,
        HTTP_ACCEPT="application/token-introspection+jwt",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/token-introspection+jwt"
    value = response.content.decode()
    header = jwt.get_unverified_header(value)
    assert header["typ"] == "token-introspection+jwt"
    assert header["alg"] == "ES256"
    claims = _verify_with_jwks(client, value, audience=provider_a.client_id)
    assert claims["aud"] == provider_a.client_id
    assert isinstance(claims["iat"], int)
    assert claims["token_introspection"] == plain
    assert plain["active"] is True


def test_a_signed_answer_about_anothers_token_says_only_inactive(client, provider_a, provider_b):
    response = client.post(
        "/mcg/v1/tokeninfo",
        {"token": provider_b.token()},
        HTTP_AUTHORIZATION=provider_a.basic(),
        HTTP_ACCEPT="application/token-introspection+jwt",
    )
    claims = _verify_with_jwks(client, response.content.decode(), audience=provider_a.client_id)
    assert claims["token_introspection"] == {"active": False}


@pytest.mark.parametrize("accept", ["", "*/*", "application/json", "application/token-introspection+jwt;q=0, application/json"])
def test_other_accept_values_get_plain_json(client, provider_a, accept):
    response = client.post(
        "/mcg/v1/tokeninfo", {"token": provider_a.token()}, HTTP_AUTHORIZATION=provider_a.basic(), HTTP_ACCEPT=accept
    )
    assert response["Content-Type"] == "application/json"
    assert response.json()["active"] is True


def test_errors_stay_json_when_a_jwt_is_asked_for(client, provider_a):
    response = client.post(
        "/mcg/v1/tokeninfo",
        {"token": provider_a.token()},
        HTTP_AUTHORIZATION=basic(provider_a.client_id, "nope"),
        HTTP_ACCEPT="application/token-introspection+jwt",
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


# --- The machine path ---------------------------------------------------------------------------------


def test_machine_answers_skip_the_browser_middleware_but_keep_the_security_headers(client, provider_a):
    response = client.post("/mcg/v1/tokeninfo", {"token": provider_a.token()}, HTTP_AUTHORIZATION=provider_a.basic())
    assert "Set-Cookie" not in response
    assert "Vary" not in response  # no session, no language negotiation
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    # A page still goes through the whole chain.
    page = client.get("/mcg/v1/docs")
    assert "Accept-Language" in page["Vary"] or "Cookie" in page["Vary"]
