"""Revocation takes effect at once in every process, with no round trip while pushes are known to arrive."""

import base64
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onboarding import services as onboarding_services
from providers import revocation
from providers.mcg import services as mcg
from providers.mobilesaude import services as mobilesaude
from providers.mobilesaude.models import IntegrationClient
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MS_PASSWORD = "a-mobile-saude-password-0001"

needs_redis = pytest.mark.skipif(not settings.REVOCATION_REDIS_URL, reason="revocation pushes need Redis (CACHE_URL)")


@pytest.fixture
def other_process(worker_env, transactional_db):
    """A second portal process (gunicorn) on the same database and Redis: the base URL it serves."""
    port = free_port()
    log = open(ROOT / "test-artifacts" / "revocation-gunicorn.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "2"],
        cwd=ROOT,
        env={**worker_env, "ALLOWED_HOSTS": "127.0.0.1,localhost"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the second portal process did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=15)
    log.close()


def _basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _provider_token(base, client_id, secret):
    response = requests.post(
        f"{base}/mcg/v1/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _introspect(base, caller, token):
    return requests.post(
        f"{base}/mcg/v1/tokeninfo", data={"token": token}, headers={"Authorization": f"Bearer {caller}"}, timeout=10
    )


def _start_of_a_second():
    """Wait until early in a wall-clock second, so that what follows happens within that second."""
    while time.time() % 1 > 0.3:
        time.sleep(0.02)


def test_a_token_minted_in_the_same_second_as_a_secret_reset_does_not_survive_it(live_server, transactional_db):
    provider, secret = mcg.create_service_provider(provider_id=501, name="Same second", service_ids=[1])
    _start_of_a_second()
    before = _provider_token(live_server.url, provider.client_id, secret)
    new_secret = mcg.reset_client_secret(provider)
    after = _provider_token(live_server.url, provider.client_id, new_secret)
    # The token from before the reset is void, the one from just after it works.
    assert _introspect(live_server.url, after, before).json() == {"active": False}
    assert _introspect(live_server.url, before, after).status_code == 401
    assert _introspect(live_server.url, after, after).json()["active"] is True


@needs_redis
def test_revoking_in_one_process_is_seen_at_once_by_another(live_server, other_process):
    provider, secret = mcg.create_service_provider(provider_id=502, name="Two processes", service_ids=[1])
    caller = _provider_token(other_process, provider.client_id, secret)
    token = _provider_token(other_process, provider.client_id, secret)
    # The other process has seen the token as active (and remembers it).
    assert _introspect(other_process, caller, token).json()["active"] is True
    assert _introspect(other_process, caller, token).json()["active"] is True

    revoked = requests.post(
        f"{live_server.url}/mcg/v1/revoke",
        data={"token": token},
        headers={"Authorization": _basic(provider.client_id, secret)},
        timeout=10,
    )
    assert revoked.status_code == 200
    assert _introspect(other_process, caller, token).json() == {"active": False}

    # Deactivating the provider here voids its tokens there, at once.
    mcg.set_active(provider, False)
    assert _introspect(other_process, caller, caller).status_code == 401


@needs_redis
def test_deactivating_a_mobile_saude_client_voids_its_tokens_in_every_process(live_server, other_process):
    client = mobilesaude.create_client(usuario="app-two", password=MS_PASSWORD)
    user = onboarding_services.register_staff(
        email="ana@example.com", password=None, first_name="Ana", mobile_number="+5527997157620"
    )
    user.cpf, user.birth_date = "54430070768", "1990-05-17"
    user.save()
    auth = requests.post(
        f"{other_process}/integrations/mobilesaude/autorizacao", json={"usuario": "app-two", "senha": MS_PASSWORD}, timeout=10
    )
    header = auth.json()["auth"][0]
    identified = requests.post(
        f"{other_process}/integrations/mobilesaude/recuperarSenhaIdentificacao",
        json={"cpf": "54430070768", "dataNascimento": "1990-05-17"},
        headers={header["chave"]: header["token"]},
        timeout=10,
    )
    assert identified.status_code == 200
    client_token = header["token"].split(" ", 1)[1]
    user_token = identified.json()["seguranca"]["auth"][0]["token"].split(" ", 1)[1]
    assert _introspect(other_process, client_token, user_token).json()["active"] is True

    mobilesaude.set_client_active(client, False)
    # The client can neither introspect nor identify any more, there, at once.
    assert _introspect(other_process, client_token, user_token).status_code == 401
    again = requests.post(
        f"{other_process}/integrations/mobilesaude/recuperarSenhaIdentificacao",
        json={"cpf": "54430070768", "dataNascimento": "1990-05-17"},
        headers={header["chave"]: header["token"]},
        timeout=10,
    )
    assert again.status_code == 401
    # Reactivated, its old tokens stay void; a new sign-in works.
    mobilesaude.set_client_active(IntegrationClient.objects.get(pk=client.pk), True)
    assert _introspect(other_process, client_token, user_token).status_code == 401
    fresh = requests.post(
        f"{other_process}/integrations/mobilesaude/autorizacao", json={"usuario": "app-two", "senha": MS_PASSWORD}, timeout=10
    )
    fresh_token = fresh.json()["auth"][0]["token"].split(" ", 1)[1]
    assert _introspect(other_process, fresh_token, fresh_token).json()["active"] is True


@needs_redis
def test_while_pushes_arrive_the_answer_needs_no_round_trip(db):
    provider, _secret = mcg.create_service_provider(provider_id=503, name="Hot path", service_ids=[1])
    claims = mcg.tokens.verify(mcg.issue_provider_token(provider).token, audience=mcg.tokens.conf.AUDIENCE)
    assert revocation.wait_until_trusted()
    assert revocation.revoked([claims]) == {claims["jti"]: False}
    calls = []
    original = revocation.cache.get_many
    revocation.cache.get_many = lambda keys: calls.append(keys) or original(keys)
    try:
        with CaptureQueriesContext(connection) as queries:
            for _ in range(200):
                assert revocation.revoked([claims]) == {claims["jti"]: False}
    finally:
        revocation.cache.get_many = original
    # Only the odd lookup made while a heartbeat was being read asks the cache; none asks the database.
    assert len(calls) <= 5 and len(queries) == 0


@needs_redis
def test_no_answer_from_memory_outlives_a_revocation_by_more_than_a_second_when_pushes_stop(db, monkeypatch):
    provider, _secret = mcg.create_service_provider(provider_id=504, name="Broken pushes", service_ids=[1])
    claims = mcg.tokens.verify(mcg.issue_provider_token(provider).token, audience=mcg.tokens.conf.AUDIENCE)
    assert revocation.wait_until_trusted()
    assert revocation.is_revoked(claims) is False  # remembered as not revoked
    # Pub/sub breaks without the listener noticing: pushes and heartbeats stop arriving.
    monkeypatch.setattr(revocation.memory, "confirm", lambda sent_at: None)
    monkeypatch.setattr(revocation.memory, "jti_revoked", lambda jti: None)
    monkeypatch.setattr(revocation.Listener, "_apply", lambda self, change: None)
    # Another process revokes the token: the shared store knows, this process's memory does not.
    from providers.mcg.models import RevokedToken

    RevokedToken.objects.create(jti=claims["jti"], client_id=provider.client_id, expires_at=provider.created_at)
    revocation.cache.set(revocation.REVOKED_KEY.format(claims["jti"]), True, timeout=60)
    revoked_at = time.monotonic()
    while not revocation.is_revoked(claims):
        assert time.monotonic() - revoked_at <= settings.REVOCATION_PUSH_MAX_AGE + 0.1
        time.sleep(0.01)


def test_tokens_of_deleted_or_unknown_clients_are_void(db):
    orphan = mcg.tokens.issue(subject="9", audience=mcg.tokens.conf.AUDIENCE, client_id="mcg-gone-123", scope="tokeninfo")
    assert revocation.is_revoked(orphan.claims) is True
