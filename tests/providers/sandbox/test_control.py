"""With DEBUG off the sandbox's controls are locked, its delays capped and its EDIN test accounts bounded (over HTTP)."""

import time

import pytest
import requests

from onboarding import services as onboarding_services
from providers.sandbox import faults
from providers.sandbox.edin import state

CONTROL_KEY = "a-sandbox-control-key-for-tests-only"
CONTROLS = [
    ("put", "/sandbox/bimedoc/_faults", {"latency_ms": 600000}),
    ("put", "/sandbox/edin/_faults", {"stall_seconds": 1}),
    ("delete", "/sandbox/bimedoc/_state", None),
    ("put", "/sandbox/edin/_control", {"idle_seconds": 1}),
    ("post", "/sandbox/edin/_accounts", {"email": "mallory@edin.test", "password": "x"}),
    ("delete", "/sandbox/edin/_sessions", None),
]


@pytest.fixture
def locked(settings, live_server, transactional_db):
    settings.SANDBOX_CONTROLS_OPEN = False
    settings.SANDBOX_CONTROL_KEY = CONTROL_KEY
    return live_server.url


@pytest.mark.parametrize("method,path,body", CONTROLS)
def test_anonymous_callers_cannot_drive_the_sandbox_with_debug_off(locked, method, path, body):
    response = requests.request(method, locked + path, json=body, timeout=10)
    assert response.status_code == 403
    assert "X-Sandbox-Control-Key" in response.json()["detail"]
    assert faults.get_profile("bimedoc").latency_ms == 0
    assert state.get_account("mallory@edin.test") is None


def test_a_wrong_control_key_is_refused(locked):
    response = requests.put(
        f"{locked}/sandbox/bimedoc/_faults", json={"latency_ms": 5}, headers={"X-Sandbox-Control-Key": "guess"}, timeout=10
    )
    assert response.status_code == 403


def test_the_control_key_opens_the_controls(locked):
    headers = {"X-Sandbox-Control-Key": CONTROL_KEY}
    response = requests.put(f"{locked}/sandbox/bimedoc/_faults", json={"latency_ms": 5}, headers=headers, timeout=10)
    assert response.status_code == 200
    assert faults.get_profile("bimedoc").latency_ms == 5


def test_a_staff_session_opens_the_controls(locked, client):
    staff = onboarding_services.register_staff(email="ops@example.com", password="a-long-Pass-phrase-42", first_name="O")
    staff.is_staff = True
    staff.save()
    session = requests.Session()
    page = session.get(f"{locked}/accounts/login/", timeout=10)
    assert page.status_code == 200
    logged_in = session.post(
        f"{locked}/accounts/login/",
        data={
            "login": "ops@example.com",
            "password": "a-long-Pass-phrase-42",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{locked}/accounts/login/"},
        timeout=10,
    )
    assert "sessionid" in session.cookies, logged_in.text[:500]
    assert session.get(f"{locked}/sandbox/bimedoc/_state", timeout=10).status_code == 200


def test_latency_and_stalls_are_capped_at_30_seconds(locked):
    headers = {"X-Sandbox-Control-Key": CONTROL_KEY}
    for body in ({"latency_ms": 600000}, {"stall_seconds": 31}):
        response = requests.put(f"{locked}/sandbox/bimedoc/_faults", json=body, headers=headers, timeout=10)
        assert response.status_code == 400
        assert "30" in response.json()["detail"]
    assert faults.get_profile("bimedoc") == faults.FaultProfile()
    assert requests.put(f"{locked}/sandbox/bimedoc/_faults", json={"stall_seconds": 30}, headers=headers, timeout=10).ok


def test_added_edin_accounts_expire(locked, monkeypatch):
    monkeypatch.setattr(state, "ACCOUNT_LIFETIME", 1)
    headers = {"X-Sandbox-Control-Key": CONTROL_KEY}
    body = {"email": "brief@edin.test", "password": "brief-pass"}
    assert requests.post(f"{locked}/sandbox/edin/_accounts", json=body, headers=headers, timeout=10).status_code == 201
    assert state.check_password("brief@edin.test", "brief-pass")
    time.sleep(2.1)
    assert state.get_account("brief@edin.test") is None


def test_edin_accounts_are_bounded_in_number_and_size(locked, monkeypatch):
    monkeypatch.setattr(state, "MAX_ADDED_ACCOUNTS", 3)
    headers = {"X-Sandbox-Control-Key": CONTROL_KEY}
    url = f"{locked}/sandbox/edin/_accounts"
    for i in range(3):
        assert (
            requests.post(url, json={"email": f"a{i}@edin.test", "password": "p"}, headers=headers, timeout=10).status_code == 201
        )
    refused = requests.post(url, json={"email": "a3@edin.test", "password": "p"}, headers=headers, timeout=10)
    assert refused.status_code == 429
    assert state.get_account("a3@edin.test") is None
    huge = requests.post(url, json={"email": "big@edin.test", "password": "p" * 10_000}, headers=headers, timeout=10)
    assert huge.status_code == 400
