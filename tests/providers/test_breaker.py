"""One circuit breaker per provider, shared through Redis."""

import time

import pybreaker
import pytest
import responses

from onboarding.audit import record_call
from onboarding.models import OutboundCall
from providers import breaker as breakers
from providers import conf as outbound_conf
from providers.http import HttpTransport, ProviderUnavailable

BASE = "https://flaky.test"


@pytest.fixture
def fresh_breakers(settings):
    if not outbound_conf.circuit_breaker.REDIS_URL:
        pytest.skip("the shared breaker needs Redis (CACHE_URL=rediscache://...)")
    settings.CIRCUIT_BREAKER_FAIL_MAX = 3
    settings.CIRCUIT_BREAKER_RESET_TIMEOUT = 1
    breakers.forget()
    breakers.reset("flaky")
    yield
    breakers.reset("flaky")
    breakers.forget()


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


# --- Concurrency: the breaker is a gate, never a lock around the call ------------------------


class _SlowServer:
    """A real threaded HTTP server on loopback that answers after ``delay`` s and counts calls in flight.

    With ``gather`` set, each call is held (up to 5 s) until that many are in flight at once, so a slow
    machine that starts the callers' threads late cannot make calls that do overlap look sequential;
    calls serialised by a lock never gather, each waits out the 5 s, and the test sees them one at a time.
    """

    def __init__(self, delay: float, status: int = 200, gather: int = 0):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.in_flight = 0
        self.max_in_flight = 0
        self.received = 0
        self.status = status
        lock = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    server.received += 1
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    lock.notify_all()
                    if gather:
                        lock.wait_for(lambda: server.max_in_flight >= gather, timeout=5)
                time.sleep(delay)
                with lock:
                    server.in_flight -= 1
                body = b'{"ok": true}'
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def slow_server():
    server = _SlowServer(delay=0.4)
    yield server
    server.close()


def _call_at_once(n, call):
    """Run ``call`` in n threads released together; return (results or exceptions, their (start, end) times)."""
    import threading

    barrier = threading.Barrier(n)
    results, spans = [None] * n, [None] * n

    def run(i):
        barrier.wait()
        started = time.monotonic()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc
        spans[i] = (started, time.monotonic())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, spans


def test_concurrent_calls_through_one_breaker_overlap_in_time(fresh_breakers):
    n = 8
    slow_server = _SlowServer(delay=0.4, gather=n)
    records = []
    t = HttpTransport(provider="flaky", base_url=slow_server.url, recorder=records.append, breaker=breakers.breaker_for("flaky"))
    results, spans = _call_at_once(n, lambda: t.send("op", "POST", "/x", json={}))
    assert all(getattr(r, "status_code", None) == 200 for r in results), results
    # Every call was at the server at the same time: one lock around the call would make it 1.
    assert slow_server.max_in_flight == n
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    assert wall < n * 0.4, f"{n} calls of 0.4 s took {wall:.2f} s: they ran one after another"
    assert len(records) == n and breakers.is_available("flaky")
    slow_server.close()
    t.session.close()


def test_concurrent_failures_open_the_circuit_and_count_every_one(fresh_breakers, slow_server):
    slow_server.status = 503
    t = HttpTransport(provider="flaky", base_url=slow_server.url, breaker=breakers.breaker_for("flaky"))
    results, _spans = _call_at_once(6, lambda: t.send("op", "POST", "/x", json={}))
    assert [r.status_code for r in results] == [503] * 6
    assert slow_server.max_in_flight == 6
    assert not breakers.is_available("flaky")
    assert breakers.breaker_for("flaky").fail_counter == 6
    t.session.close()


def test_half_open_lets_exactly_one_trial_through_while_the_others_wait(fresh_breakers, slow_server):
    t = HttpTransport(provider="flaky", base_url=slow_server.url, breaker=breakers.breaker_for("flaky"))
    breakers.breaker_for("flaky").open()
    time.sleep(1.1)  # the pause (1 s) is over: the next call is the trial
    results, _spans = _call_at_once(5, lambda: t.send("op", "POST", "/x", json={}))
    sent = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ProviderUnavailable)]
    assert len(sent) == 1 and len(refused) == 4, results
    assert slow_server.received == 1
    # The trial succeeded: the circuit is closed and everyone goes through again.
    assert breakers.breaker_for("flaky").current_state == pybreaker.STATE_CLOSED
    assert t.send("op", "POST", "/x", json={}).status_code == 200
    t.session.close()


@pytest.mark.django_db
def test_the_opening_time_is_kept_to_the_fraction_of_a_second(fresh_breakers):
    """pybreaker's whole seconds would shorten the pause by up to one second."""
    from datetime import UTC, datetime

    storage = breakers._storage("flaky")
    half_past = datetime(2026, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC)
    storage.opened_at = half_past
    assert breakers._storage("flaky").opened_at == half_past
    breakers.breaker_for("flaky").open()
    assert 0.9 < breakers.seconds_until_retry("flaky") <= 1
