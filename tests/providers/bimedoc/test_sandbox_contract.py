"""Contract tests: the real client against the simulated Bimedoc, over real HTTP (live server)."""

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from providers.bimedoc.client import BimedocClient, NewPharmacy, NewUser, sso_url
from providers.bimedoc.conf import conf as bimedoc_conf
from providers.http import AuthenticationError, Conflict, InvalidRequest, InvalidResponse, RetryableError
from providers.sandbox import faults
from providers.sandbox.bimedoc.models import RemoteUser, SsoToken
from providers.sandbox.conf import conf as sandbox_conf


def onboard(client, email="titulaire@example.com"):
    user = client.create_user(NewUser(email=email, first_name="Claire", last_name="Dupont", gender="f"))
    pharmacy = client.create_pharmacy(user.token, NewPharmacy(name="Pharmacie du Port", city="Brest"))
    return user, pharmacy


def test_user_then_pharmacy_links_the_user_as_titulaire(sandbox_client, sandbox_state):
    user, pharmacy = onboard(sandbox_client)
    remote = RemoteUser.objects.select_related("pharmacy").get(pk=user.id)
    assert str(remote.pharmacy_id) == pharmacy.id
    assert remote.pharmacy.name == "Pharmacie du Port" and remote.function == "titulaire"
    assert sandbox_state() == {
        "users": 1,
        "pharmacies": 1,
        "sso_tokens": 0,
        "duplicate_user_attempts": 0,
        "users_created_twice": 0,
        "pharmacies_created_twice": 0,
        "requests": 2,
    }


def test_duplicate_email_is_refused_as_a_conflict_and_counted(sandbox_client, sandbox_state):
    sandbox_client.create_user(NewUser(email="dup@example.com"))
    with pytest.raises(Conflict):
        sandbox_client.create_user(NewUser(email="DUP@example.com"))
    assert sandbox_state()["users"] == 1
    assert sandbox_state()["duplicate_user_attempts"] == 1


def test_wrong_api_key_is_an_authentication_error(bimedoc_sandbox, settings):
    client = BimedocClient(base_url=bimedoc_sandbox, partner_id=bimedoc_conf.PARTNER_ID, api_key="wrong")
    with pytest.raises(AuthenticationError):
        client.create_user(NewUser(email="a@example.com"))


def test_pharmacy_needs_the_users_jwt(sandbox_client, settings):
    with pytest.raises(AuthenticationError):
        sandbox_client.create_pharmacy("not-a-jwt", NewPharmacy(name="X"))
    # The Partner header is not accepted in place of the JWT.
    response = requests.post(
        f"{bimedoc_conf.BASE_URL}/auth/pharmacy/",
        json={"name": "X"},
        headers={"Authorization": f"Partner {bimedoc_conf.PARTNER_ID}:{bimedoc_conf.API_KEY}"},
        timeout=5,
    )
    assert response.status_code == 401


def test_missing_pharmacy_name_and_bad_gender_are_field_errors(sandbox_client):
    with pytest.raises(InvalidRequest) as excinfo:
        sandbox_client.create_user(NewUser(email="a@example.com", gender="x"))
    assert list(excinfo.value.field_errors) == ["gender"]
    user = sandbox_client.create_user(NewUser(email="b@example.com"))
    with pytest.raises(InvalidRequest) as excinfo:
        sandbox_client.create_pharmacy(user.token, NewPharmacy(name=""))
    assert "name" in excinfo.value.field_errors


def test_first_user_must_be_titulaire_and_colleagues_join_with_the_pharmacy_id(sandbox_client):
    with pytest.raises(InvalidRequest) as excinfo:
        sandbox_client.create_user(NewUser(email="a@example.com", function="adjoint"))
    assert "function" in excinfo.value.field_errors
    _user, pharmacy = onboard(sandbox_client)
    colleague = sandbox_client.create_user(NewUser(email="adjoint@example.com", function="adjoint", pharmacy=pharmacy.id))
    remote = RemoteUser.objects.get(pk=colleague.id)
    assert str(remote.pharmacy_id) == pharmacy.id and remote.function == "adjoint"
    with pytest.raises(InvalidRequest) as excinfo:
        sandbox_client.create_user(NewUser(email="x@example.com", function="adjoint", pharmacy="99999"))
    assert "pharmacy" in excinfo.value.field_errors


def test_sso_token_signs_in_once(sandbox_client, settings, live_server):
    user, pharmacy = onboard(sandbox_client)
    token = sandbox_client.create_sso_token(user.id)
    url = sso_url(bimedoc_conf.APP_URL, pharmacy.id, token)
    first = requests.get(url, timeout=5)
    assert first.status_code == 200
    assert "titulaire@example.com" in first.text and "Pharmacie du Port" in first.text
    second = requests.get(url, timeout=5)
    assert second.status_code == 403 and "already been used" in second.text


def test_sso_token_expires_after_120_seconds(sandbox_client, settings):
    user, pharmacy = onboard(sandbox_client)
    token = sandbox_client.create_sso_token(user.id)
    sso = SsoToken.objects.get(token=token)
    assert dt.timedelta(seconds=119) < sso.expires_at - sso.created_at <= dt.timedelta(seconds=121)
    SsoToken.objects.filter(token=token).update(expires_at=sso.created_at)
    response = requests.get(sso_url(bimedoc_conf.APP_URL, pharmacy.id, token), timeout=5)
    assert response.status_code == 403 and "expired" in response.text


def test_sso_landing_refuses_another_pharmacy_and_unknown_tokens(sandbox_client, settings):
    user, _pharmacy = onboard(sandbox_client)
    _other_user, other = onboard(sandbox_client, email="other@example.com")
    token = sandbox_client.create_sso_token(user.id)
    response = requests.get(sso_url(bimedoc_conf.APP_URL, other.id, token), timeout=5)
    assert response.status_code == 403 and "does not belong" in response.text
    response = requests.get(sso_url(bimedoc_conf.APP_URL, other.id, "forged"), timeout=5)
    assert response.status_code == 403 and "unknown" in response.text
    assert requests.get(f"{bimedoc_conf.APP_URL}/sso/", timeout=5).status_code == 400


def test_sso_token_for_an_unknown_user_is_a_field_error(sandbox_client):
    with pytest.raises(InvalidRequest) as excinfo:
        sandbox_client.create_sso_token("00000000-0000-4000-8000-000000000001")
    assert "user" in excinfo.value.field_errors


def test_fault_profile_over_http_makes_calls_fail_then_recover(sandbox_client, settings):
    url = f"{sandbox_conf.URL}/bimedoc/_faults"
    assert requests.put(url, json={"error_rate": 1}, timeout=5).json()["error_rate"] == 1
    with pytest.raises(RetryableError):
        sandbox_client.create_user(NewUser(email="a@example.com"))
    assert RemoteUser.objects.count() == 0
    faults.set_profile("bimedoc", faults.FaultProfile(malformed_rate=1))
    with pytest.raises(InvalidResponse):
        sandbox_client.create_user(NewUser(email="a@example.com"))
    assert RemoteUser.objects.count() == 1  # acted, then answered garbage
    requests.delete(url, timeout=5)
    assert sandbox_client.create_user(NewUser(email="b@example.com")).id


def test_audit_records_over_real_http_hold_no_secrets(sandbox_client, records, settings):
    user, pharmacy = onboard(sandbox_client)
    token = sandbox_client.create_sso_token(user.id)
    assert [r.operation for r in records] == ["create_user", "create_pharmacy", "create_sso_token"]
    for record in records:
        text = str(record.__dict__)
        for secret in (bimedoc_conf.API_KEY, user.token, token, "12345"):
            assert secret not in text
    assert parse_qs(urlparse(sso_url("https://x", pharmacy.id, token)).query)["sso_token"] == [token]
