"""Fixtures for the Mobile Saúde endpoints: an integration client, a pharmacist to identify, JSON posting."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse

from onboarding import services as onboarding
from providers.mobilesaude import services

USUARIO = "mobilesaude-app"
SENHA = "s3nha-bem-comprida-e-unica"
CPF = "54430070768"  # the seed's example (valid check digits)
CPF_PUNCTUATED = "544.300.707-68"
BIRTH_DATE = "1993-08-05"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """A cheap hasher keeps the suite quick; the timing and storage tests put the real ones back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def real_password_hashing(settings):
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


@pytest.fixture
def integration_client(db):
    return services.create_client(usuario=USUARIO, password=SENHA)


@pytest.fixture
def pharmacist(db):
    user = onboarding.register_staff(
        email="beneficiaria@gmail.com",
        password="another-long-password",
        first_name="Ana",
        last_name="Souza",
        cpf=CPF,
        birth_date=datetime.date(1993, 8, 5),
        mobile_number="+5527997157620",
    )
    onboarding.create_pharmacy(titulaire=user, name="Farmácia Central", city="Vitória")
    return user


@pytest.fixture
def post_json(client):
    """POST a JSON body (or raw bytes/str) to a named Mobile Saúde endpoint."""

    def post(name, body, *, content_type="application/json", **headers):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return client.post(reverse(f"mobilesaude:{name}"), data=data, content_type=content_type, headers=headers)

    return post


@pytest.fixture
def client_header(integration_client, post_json):
    """The auth header that /autorizacao hands out, as {name: value}."""
    answer = post_json("autorizacao", {"usuario": USUARIO, "senha": SENHA}).json()
    auth = answer["auth"][0]
    return {auth["chave"]: auth["token"]}
