"""Fixtures for the service-provider API: two providers, a staff user, tokens and request helpers."""

import base64
import io
import time

import jwt
import pytest
from django.test import Client
from PIL import Image

import tokens
from onboarding import services as onboarding_services
from providers.mcg import services


class Provider:
    """A registered provider with its clear-text secret, as the command hands it over."""

    def __init__(self, model, secret):
        self.model = model
        self.secret = secret
        self.client_id = model.client_id
        self.provider_id = model.provider_id
        self.service_token = str(model.service_token)

    def basic(self):
        return "Basic " + base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()

    def token(self, scope="services tokeninfo"):
        return services.issue_provider_token(self.model, scope=scope).token


@pytest.fixture
def provider_a(db):
    return Provider(*services.create_service_provider(provider_id=9_000_000_001, name="Clinique Nano", service_ids=[1, 2]))


@pytest.fixture
def provider_b(db):
    return Provider(*services.create_service_provider(provider_id=42, name="Autos CHECHO", service_ids=[3]))


def reach(provider, user, *, pharmacy=None, ads=True):
    """Let the provider reach the user: link a pharmacy of theirs (made when they have none) and opt in to its ads."""
    if pharmacy is None:
        membership = user.memberships.select_related("pharmacy").first()
        pharmacy = (
            membership.pharmacy
            if membership
            else onboarding_services.create_pharmacy(titulaire=user, name=f"Pharmacie de {user.first_name or user.email}")
        )
    services.link_pharmacies(provider.model if isinstance(provider, Provider) else provider, [pharmacy])
    if ads:
        services.set_sender_preference(user, provider.model if isinstance(provider, Provider) else provider, accepts_ads=True)
    return pharmacy


@pytest.fixture
def staff(db, provider_a, provider_b):
    """A pharmacy's titulaire whom both providers reach, opted in to their ads."""
    user = onboarding_services.register_staff(
        email="claire@example.com",
        password="a-long-Pass-phrase-42",
        first_name="Claire",
        last_name="Dupont",
        mobile_number="+33612345678",
    )
    reach(provider_a, user)
    reach(provider_b, user)
    return user


@pytest.fixture
def other_staff(db, provider_a, provider_b):
    user = onboarding_services.register_staff(email="paul@example.com", password="a-long-Pass-phrase-42", first_name="Paul")
    reach(provider_a, user)
    reach(provider_b, user)
    return user


def forged(claims=None, *, key=None, alg="ES256", headers=None, **overrides):
    """A token signed with another key (or alg), with claims like the portal's."""
    from cryptography.hazmat.primitives.asymmetric import ec

    now = int(time.time())
    body = {
        "iss": tokens.conf.ISSUER,
        "sub": "42",
        "aud": tokens.conf.AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "forged-jti",
        "scope": "services tokeninfo",
        "client_id": "x",
        **(claims or {}),
        **overrides,
    }
    if alg == "none":
        return jwt.encode(body, None, algorithm="none", headers=headers)
    key = key or ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(body, key, algorithm=alg, headers={"kid": tokens.key_ring().current.kid, **(headers or {})})


def png_base64(size=(8, 8), color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def introspect(client, caller_token, token, **extra):
    return client.post(
        "/mcg/v1/tokeninfo", {"token": token, **extra}, HTTP_AUTHORIZATION=f"Bearer {caller_token}" if caller_token else ""
    )


def post_services(client, token, body, **headers):
    import json

    return client.post(
        "/Services",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def services_body(provider, destination, **parameters):
    parameters = parameters or {"notification": {"title": "Clinique Dr. Nano", "message": "Lundi 9:15", "channel": "SMS"}}
    return {
        "provider_id": provider.provider_id,
        "service_token": provider.service_token,
        "service_id": provider.model.service_ids[0],
        "parameters": {"destination": str(destination.public_id), **parameters},
    }


class FormClient(Client):
    """The test client, posting dicts form-urlencoded as OAuth clients do (not multipart)."""

    def post(self, path, data=None, content_type=None, **extra):
        from urllib.parse import urlencode

        if isinstance(data, dict) and content_type is None:
            return super().post(path, urlencode(data), content_type="application/x-www-form-urlencoded", **extra)
        return super().post(path, data, content_type=content_type or "application/octet-stream", **extra)


@pytest.fixture
def client():
    return FormClient()


@pytest.fixture(autouse=True)
def _forget_checked_secrets():
    """Each test checks client secrets afresh (the memo lives as long as the process)."""
    from providers.mcg import oauth

    oauth.verified_secrets.forget()
    yield
