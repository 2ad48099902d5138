"""The shared outbound path: timing, redaction, error mapping and the audit record."""

import pytest
import requests
import responses

from onboarding import services
from onboarding.audit import audit_context, record_call
from onboarding.models import OutboundCall
from providers.http import (
    AuthenticationError,
    Conflict,
    HttpTransport,
    InvalidRequest,
    OutcomeUnknown,
    RetryableError,
    excerpt,
    raise_for_status,
)

BASE = "https://provider.test"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoxfQ.c2lnbmF0dXJl"


@pytest.fixture
def transport():
    return HttpTransport(provider="bimedoc", base_url=BASE, recorder=record_call)


@pytest.mark.django_db
@responses.activate
def test_a_call_is_recorded_with_secrets_redacted_and_context_attached(transport):
    user = services.register_staff(email="a@example.com", password=None)
    responses.post(f"{BASE}/auth/user/", json={"id": "u-1", "token": JWT}, status=201)
    with audit_context(user=user, task_id="task-9", correlation_id="corr-1"):
        response = transport.send(
            "create_user",
            "POST",
            "/auth/user/",
            json={"email": "a@example.com", "password": "12345"},
            headers={"Authorization": "Partner pid:the-api-key"},
            secrets=["the-api-key"],
        )
    assert response.status_code == 201
    call = OutboundCall.objects.get()
    assert (call.provider, call.operation, call.method, call.path, call.status_code, call.outcome) == (
        "bimedoc",
        "create_user",
        "POST",
        "/auth/user/",
        201,
        "success",
    )
    assert call.user == user and call.task_id == "task-9" and call.correlation_id == "corr-1"
    assert call.duration_ms >= 0
    everything = " ".join([call.request_excerpt, call.response_excerpt, call.error])
    assert "12345" not in everything and JWT not in everything and "the-api-key" not in everything
    assert "a@example.com" in call.request_excerpt  # what is not secret stays readable


@pytest.mark.django_db
@responses.activate
def test_read_timeout_is_outcome_unknown_and_recorded(transport):
    responses.post(f"{BASE}/x", body=requests.ReadTimeout())
    with pytest.raises(OutcomeUnknown):
        transport.send("op", "POST", "/x")
    assert OutboundCall.objects.get().outcome == "timeout"


@pytest.mark.django_db
@responses.activate
def test_refused_connection_is_retryable_but_not_unknown(transport):
    responses.post(f"{BASE}/x", body=requests.ConnectionError("Connection refused"))
    with pytest.raises(RetryableError) as err:
        transport.send("op", "POST", "/x")
    assert not isinstance(err.value, OutcomeUnknown)
    assert OutboundCall.objects.get().outcome == "connection_error"


@responses.activate
@pytest.mark.parametrize(
    "status,body,error",
    [
        (401, {"detail": "bad"}, AuthenticationError),
        (400, {"email": ["Invalid."]}, InvalidRequest),
        (409, {"email": ["exists"]}, Conflict),
        (503, None, RetryableError),
        (429, None, RetryableError),
    ],
)
def test_status_codes_map_onto_the_error_hierarchy(status, body, error):
    transport = HttpTransport(provider="p", base_url=BASE)
    responses.post(f"{BASE}/x", json=body, status=status)
    response = transport.send("op", "POST", "/x")
    with pytest.raises(error) as err:
        raise_for_status(transport, response)
    if status == 400:
        assert err.value.field_errors == {"email": ["Invalid."]}


def test_excerpt_redacts_nested_secret_keys_and_bare_jwts():
    text = excerpt({"user": {"password": "p", "name": "n"}, "note": f"JWT {JWT}"})
    assert '"password": "[redacted]"' in text and JWT not in text and '"name": "n"' in text


@pytest.mark.django_db
def test_audit_rows_are_append_only(transport):
    from django.core.exceptions import ValidationError

    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/y", json={})
        transport.send("op", "GET", "/y")
    call = OutboundCall.objects.get()
    call.status_code = 500
    with pytest.raises(ValidationError):
        call.save()
    with pytest.raises(ValidationError):
        call.delete()


def test_the_client_factory_builds_one_client_per_configuration_with_the_breaker_wired_and_closes_them():
    from providers import breaker
    from providers.http import client_for, close_clients

    built = []

    def build(outbound):
        built.append(outbound)
        return object()

    first = client_for("factory-test", build, key=("https://a.test",))
    assert client_for("factory-test", build, key=("https://a.test",)) is first and len(built) == 1
    assert built[0].breaker is breaker.breaker_for("factory-test") and built[0].rate_limiter is None
    assert built[0].key == ("https://a.test",)
    paced = client_for("factory-test", build, key=("https://b.test",), paced=True, max_rps=5)
    assert paced is not first and built[1].rate_limiter is not None and built[1].rate_limiter.max_rps == 5
    close_clients("factory-test")
    assert client_for("factory-test", build, key=("https://a.test",)) is not first
    close_clients("factory-test")


def test_every_provider_client_comes_from_the_factory_with_its_breaker(settings):
    from providers import breaker
    from providers.bimedoc import services as bimedoc
    from providers.edin import services as edin
    from providers.mcg.gateways import HttpGateway, close_gateways

    gateway = HttpGateway(base_url="https://gateway.test", api_key="k")
    try:
        assert gateway.transport.breaker is breaker.breaker_for("gateway")
        assert HttpGateway(base_url="https://gateway.test", api_key="k").transport is gateway.transport
        assert edin.edin_client().transport.breaker is breaker.breaker_for("edin")
        assert edin.edin_client() is edin.edin_client()
        client = bimedoc.client()
        assert client.transport.breaker is breaker.breaker_for("bimedoc") and client.transport.rate_limiter is not None
        assert bimedoc.client() is client
    finally:
        close_gateways()
        bimedoc.close_clients()


def test_the_retry_policy_doubles_with_jitter_up_to_its_cap_and_counts_retries():
    from providers.http import RetryPolicy

    policy = RetryPolicy(max_retries=3, base_delay=2.0, max_delay=5.0)
    for failures, (low, high) in {1: (1.0, 2.0), 2: (2.0, 4.0), 3: (2.5, 5.0), 9: (2.5, 5.0)}.items():
        delays = {policy.delay(failures) for _ in range(50)}
        assert all(low <= d <= high for d in delays) and len(delays) > 1
    assert RetryPolicy(max_retries=3, base_delay=2.0, jitter=False).delay(3) == 8.0
    assert not policy.exhausted(3) and policy.exhausted(4)


# --- The environment (proxies, CA bundle) -------------------------------------------------------


@pytest.fixture
def recording_server():
    """A local HTTP server that answers 200 to anything and keeps each request line (a proxy sees absolute URLs)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lines = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the base class's name
            lines.append(self.requestline)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", lines
    server.shutdown()
    server.server_close()


def test_calls_go_through_the_proxy_the_environment_names(recording_server, monkeypatch):
    proxy, lines = recording_server
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    transport = HttpTransport(provider="bimedoc", base_url="http://provider.invalid/api")
    assert transport.send("ping", "GET", "/ping").status_code == 200
    assert lines == ["GET http://provider.invalid/api/ping HTTP/1.1"]


def test_a_host_in_no_proxy_is_called_directly(recording_server, monkeypatch):
    direct, lines = recording_server
    for name in ("no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    transport = HttpTransport(provider="bimedoc", base_url=direct)
    assert transport.send("ping", "GET", "/ping").status_code == 200
    assert lines == ["GET /ping HTTP/1.1"]


@responses.activate
def test_the_environment_is_read_once_per_transport_not_on_every_call(monkeypatch):
    """requests scans the whole environment (proxies, NO_PROXY) on every call unless told not to."""
    transport = HttpTransport(provider="bimedoc", base_url=BASE)
    responses.get(f"{BASE}/ping", json={})
    scans = []
    scan = requests.utils.should_bypass_proxies
    monkeypatch.setattr(requests.utils, "should_bypass_proxies", lambda *a, **k: scans.append(a) or scan(*a, **k))
    for _ in range(3):
        assert transport.send("ping", "GET", "/ping").status_code == 200
    assert scans == []
