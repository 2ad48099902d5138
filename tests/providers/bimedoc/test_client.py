"""Edge cases of the Bimedoc client, with the HTTP layer mocked (``responses``)."""

import json

import pytest
import requests
import responses

from providers.bimedoc.client import BimedocClient, NewPharmacy, NewUser, sso_url
from providers.http import (
    AuthenticationError,
    Conflict,
    InvalidRequest,
    InvalidResponse,
    OutcomeUnknown,
    RetryableError,
)

BASE = "https://server-test.bimedoc.example"
PARTNER = "81bdb27c-af69-40d2-8c56-782b4eeb25e9"
API_KEY = "my-secret-api-key"
JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiYWJjIn0.c2lnbmF0dXJl"


@pytest.fixture
def records():
    return []


@pytest.fixture
def client(records):
    return BimedocClient(base_url=BASE, partner_id=PARTNER, api_key=API_KEY, recorder=records.append, timeout=(1.5, 4.0))


def assert_no_secret(records, *secrets):
    for record in records:
        text = json.dumps(record.__dict__)
        for secret in secrets:
            assert secret not in text


@responses.activate
def test_create_user_sends_partner_header_and_placeholder_password_and_returns_id_and_token(client, records):
    responses.post(f"{BASE}/auth/user/", json={"id": "u-1", "email": "a@b.fr", "token": JWT}, status=201)
    created = client.create_user(NewUser(email="a@b.fr", first_name="Anne", gender="f"))
    assert created.id == "u-1" and created.token == JWT
    request = responses.calls[0].request
    assert request.headers["Authorization"] == f"Partner {PARTNER}:{API_KEY}"
    body = json.loads(request.body)
    assert body == {"email": "a@b.fr", "first_name": "Anne", "gender": "f", "function": "titulaire", "password": "12345"}
    assert JWT not in repr(created)
    [record] = records
    assert record.operation == "create_user" and record.status_code == 201 and record.outcome == "success"
    assert_no_secret(records, API_KEY, JWT, "12345")


@responses.activate
def test_create_pharmacy_sends_the_users_jwt_not_the_api_key(client, records):
    responses.post(f"{BASE}/auth/pharmacy/", json={"id": 42, "name": "Pharmacie"}, status=201)
    created = client.create_pharmacy(JWT, NewPharmacy(name="Pharmacie", city="Lyon"))
    assert created.id == "42"  # remote ids are strings, whatever their shape
    request = responses.calls[0].request
    assert request.headers["Authorization"] == f"JWT {JWT}"
    assert json.loads(request.body) == {"name": "Pharmacie", "city": "Lyon"}
    assert_no_secret(records, API_KEY, JWT)


@responses.activate
def test_colleague_is_created_with_the_pharmacy_id(client):
    responses.post(f"{BASE}/auth/user/", json={"id": "u-2", "token": JWT}, status=201)
    client.create_user(NewUser(email="b@b.fr", function="adjoint", pharmacy="42"))
    body = json.loads(responses.calls[0].request.body)
    assert body["pharmacy"] == "42" and body["function"] == "adjoint"


@responses.activate
def test_sso_token_is_returned_and_redacted_from_the_record(client, records):
    responses.post(f"{BASE}/auth/ssoToken/", json={"token": "sso-secret-value"})
    assert client.create_sso_token("u-1") == "sso-secret-value"
    assert json.loads(responses.calls[0].request.body) == {"user": "u-1"}
    assert_no_secret(records, "sso-secret-value", API_KEY)


def test_sso_url_has_the_pharmacy_and_the_token_encoded():
    assert sso_url("https://app-test.bimedoc.com/", "42", "a+b/c") == (
        "https://app-test.bimedoc.com/sso/?pharmacy=42&sso_token=a%2Bb%2Fc"
    )


@responses.activate
def test_field_errors_become_invalid_request_with_field_errors(client):
    responses.post(f"{BASE}/auth/pharmacy/", json={"name": ["Ce champ est obligatoire."]}, status=400)
    with pytest.raises(InvalidRequest) as excinfo:
        client.create_pharmacy(JWT, NewPharmacy(name=""))
    assert excinfo.value.field_errors == {"name": ["Ce champ est obligatoire."]}
    assert not excinfo.value.retryable


@responses.activate
def test_duplicate_email_becomes_conflict(client):
    responses.post(f"{BASE}/auth/user/", json={"email": ["Un utilisateur avec cet email existe déjà."]}, status=400)
    with pytest.raises(Conflict) as excinfo:
        client.create_user(NewUser(email="a@b.fr"))
    assert "email" in excinfo.value.field_errors


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_refused_credentials_become_authentication_error(client, status):
    responses.post(f"{BASE}/auth/user/", json={"detail": "Informations d'authentification non fournies."}, status=status)
    with pytest.raises(AuthenticationError):
        client.create_user(NewUser(email="a@b.fr"))


@pytest.mark.parametrize("status", [500, 502, 503, 429])
@responses.activate
def test_server_errors_are_retryable(client, status):
    responses.post(f"{BASE}/auth/user/", body="oops", status=status)
    with pytest.raises(RetryableError):
        client.create_user(NewUser(email="a@b.fr"))


@responses.activate
def test_read_timeout_is_outcome_unknown_and_recorded(client, records):
    responses.post(f"{BASE}/auth/user/", body=requests.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        client.create_user(NewUser(email="a@b.fr"))
    assert records[0].outcome == "timeout" and records[0].status_code is None


@responses.activate
def test_connection_refused_is_retryable(client):
    responses.post(f"{BASE}/auth/user/", body=requests.ConnectionError("Connection refused"))
    with pytest.raises(RetryableError):
        client.create_user(NewUser(email="a@b.fr"))


@pytest.mark.parametrize("body", ["<html>upstream error", json.dumps({"email": "a@b.fr"}), json.dumps([1, 2])])
@responses.activate
def test_unreadable_or_incomplete_success_is_invalid_response(client, records, body):
    responses.post(f"{BASE}/auth/user/", body=body, status=201, content_type="application/json")
    with pytest.raises(InvalidResponse):
        client.create_user(NewUser(email="a@b.fr"))
    assert records[-1].outcome == "invalid_response"


@responses.activate
def test_every_call_has_a_connect_and_read_timeout(client, monkeypatch):
    seen = {}
    original = client.transport.session.request

    def spy(method, url, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return original(method, url, **kwargs)

    monkeypatch.setattr(client.transport.session, "request", spy)
    responses.post(f"{BASE}/auth/ssoToken/", json={"token": "t"})
    client.create_sso_token("u")
    assert seen["timeout"] == (1.5, 4.0)
