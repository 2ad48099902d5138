"""One circuit breaker per provider, shared through Redis."""

import time

import pybreaker
import pytest
import responses

from onboarding.audit import record_call
from onboarding.models import OutboundCall
from providers import breaker as breakers
from providers.http import HttpTransport, ProviderUnavailable

BASE = "https://flaky.test"


@pytest.fixture
def fresh_breakers(settings):
    if not settings.CIRCUIT_BREAKER_REDIS_URL:
        pytest.skip("the shared breaker needs Redis (CACHE_URL=rediscache://...)")
    settings.CIRCUIT_BREAKER_FAIL_MAX = 3
    settings.CIRCUIT_BREAKER_RESET_TIMEOUT = 1
    breakers._breakers.clear()
    breakers.reset("flaky")
    yield
    breakers.reset("flaky")
    breakers._breakers.clear()


def transport():
    return HttpTransport(provider="flaky", base_url=BASE, recorder=record_call, breaker=breakers.breaker_for("flaky"))


@pytest.mark.django_db
@responses.activate
def test_repeated_failures_open_the_circuit_and_calls_stop_without_being_sent(fresh_breakers):
    failing = responses.post(f"{BASE}/x", status=503)
    t = transport()
    for _ in range(3):
        assert t.send("op", "POST", "/x").status_code == 503
    assert not breakers.is_available("flaky")
    with pytest.raises(ProviderUnavailable):
        t.send("op", "POST", "/x")
    assert failing.call_count == 3
    assert OutboundCall.objects.filter(outcome="circuit_open").count() == 1
    assert 0 < breakers.seconds_until_retry("flaky") <= 1


@pytest.mark.django_db
@responses.activate
def test_the_open_state_is_shared_with_other_processes(fresh_breakers):
    responses.post(f"{BASE}/x", status=500)
    t = transport()
    for _ in range(3):
        t.send("op", "POST", "/x")
    # Another process has its own breaker object over the same Redis state.
    other = pybreaker.CircuitBreaker(fail_max=3, reset_timeout=1, state_storage=breakers._storage("flaky"), name="flaky")
    assert other.current_state == pybreaker.STATE_OPEN


@pytest.mark.django_db
@responses.activate
def test_after_the_cool_off_one_successful_trial_closes_the_circuit(fresh_breakers):
    responses.post(f"{BASE}/x", status=502)
    t = transport()
    for _ in range(3):
        t.send("op", "POST", "/x")
    responses.replace(responses.POST, f"{BASE}/x", json={"ok": True}, status=200)
    time.sleep(1.1)
    assert t.send("op", "POST", "/x").status_code == 200
    assert breakers.is_available("flaky")


@pytest.mark.django_db
@responses.activate
def test_client_errors_do_not_count_as_provider_failures(fresh_breakers):
    responses.post(f"{BASE}/x", status=400, json={"email": ["invalid"]})
    t = transport()
    for _ in range(5):
        assert t.send("op", "POST", "/x").status_code == 400
    assert breakers.is_available("flaky")
