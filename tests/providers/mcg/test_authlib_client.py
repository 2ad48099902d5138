"""A standard OAuth client, used as it is, against the live portal over real HTTP: authlib's OAuth2Session.

It discovers the endpoints from the metadata (RFC 8414), gets tokens with client credentials
authenticating each way (client_secret_basic, client_secret_post), verifies them against the JWKS
with authlib's own JOSE code (joserfc, which authlib uses and recommends over authlib.jose),
introspects them (RFC 7662, and RFC 9701 signed answers) and revokes them (RFC 7009).
"""

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from providers.mcg import services

pytestmark = pytest.mark.django_db(transaction=True)

# Every check of RFC 8414 §2 that applies: response_types_supported is empty on purpose (no
# authorization endpoint, only the client credentials grant), which authlib's validate() refuses.
METADATA_CHECKS = [
    "issuer",
    "token_endpoint",
    "jwks_uri",
    "scopes_supported",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "service_documentation",
    "revocation_endpoint",
    "revocation_endpoint_auth_methods_supported",
    "introspection_endpoint",
    "introspection_endpoint_auth_methods_supported",
]


@pytest.fixture
def portal(live_server, settings):
    """The live portal configured as in production: its public URL is the issuer and the base of every link."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ACCESS_TOKEN_ISSUER = live_server.url
    return live_server.url


@pytest.fixture
def registered(portal):
    provider, secret = services.create_service_provider(provider_id=77, name="Gateway Co", service_ids=[1])
    other, other_secret = services.create_service_provider(provider_id=78, name="Other Co", service_ids=[1])
    return provider, secret, other, other_secret


def discover(portal: str) -> AuthorizationServerMetadata:
    response = requests.get(f"{portal}/.well-known/oauth-authorization-server", timeout=10)
    response.raise_for_status()
    metadata = AuthorizationServerMetadata(response.json())
    for name in METADATA_CHECKS:
        getattr(metadata, f"validate_{name}")()
    return metadata


def verified(value: str, metadata, **expected) -> jwt.Token:
    """The JWT, its signature checked against the published JWKS and its claims against ``expected``."""
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    token = jwt.decode(value, keys, algorithms=metadata["introspection_signing_alg_values_supported"])
    jwt.JWTClaimsRegistry(**{name: {"essential": True, "value": v} for name, v in expected.items()}).validate(token.claims)
    return token


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_authlib_client_credentials_introspection_and_revocation(portal, registered, auth_method):
    provider, secret, other, other_secret = registered
    metadata = discover(portal)
    assert metadata["issuer"] == portal
    assert auth_method in metadata["token_endpoint_auth_methods_supported"]
    assert auth_method in metadata["introspection_endpoint_auth_methods_supported"]
    assert auth_method in metadata["revocation_endpoint_auth_methods_supported"]

    session = OAuth2Session(
        provider.client_id,
        secret,
        token_endpoint_auth_method=auth_method,
        revocation_endpoint_auth_method=auth_method,
        scope="services tokeninfo",
    )
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "services tokeninfo"

    # The access token is a JWT the library verifies against the JWKS, with its own JOSE code.
    access = verified(token["access_token"], metadata, iss=metadata["issuer"], client_id=provider.client_id)
    claims = access.claims
    assert access.header["typ"] == "at+jwt"
    assert claims["sub"] == str(provider.provider_id)

    # Introspection: own token in full, another client's token inactive.
    answer = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"])
    assert answer.status_code == 200
    assert answer.json()["active"] is True
    assert answer.json()["client_id"] == provider.client_id
    assert answer.json()["jti"] == claims["jti"]
    others = OAuth2Session(other.client_id, other_secret, token_endpoint_auth_method=auth_method)
    other_token = others.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert session.introspect_token(metadata["introspection_endpoint"], token=other_token["access_token"]).json() == {
        "active": False
    }

    # RFC 9701: the same answer signed by the portal, for this client.
    signed = session.introspect_token(
        metadata["introspection_endpoint"],
        token=token["access_token"],
        headers={"Accept": "application/token-introspection+jwt"},
    )
    assert signed.headers["Content-Type"] == "application/token-introspection+jwt"
    introspection = verified(signed.text, metadata, iss=portal, aud=provider.client_id)
    assert introspection.header["typ"] == "token-introspection+jwt"
    assert introspection.claims["token_introspection"] == answer.json()

    # Revocation (RFC 7009): the token is inactive from then on; another client's token is left alone.
    assert session.revoke_token(metadata["revocation_endpoint"], token=token["access_token"]).status_code == 200
    assert session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"]).json() == {"active": False}
    assert session.revoke_token(metadata["revocation_endpoint"], token=other_token["access_token"]).status_code == 200
    assert others.introspect_token(metadata["introspection_endpoint"], token=other_token["access_token"]).json()["active"]


def test_authlib_sees_a_wrong_secret_refused_as_rfc6749_says(portal, registered):
    provider, _, _, _ = registered
    metadata = discover(portal)
    session = OAuth2Session(provider.client_id, "not-the-secret", token_endpoint_auth_method="client_secret_basic")
    response = session.introspect_token(metadata["introspection_endpoint"], token="whatever")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"
