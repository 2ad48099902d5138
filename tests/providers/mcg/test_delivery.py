"""Delivery over the HTTP gateway backend to the sandbox gateway, over real HTTP; retries; a real worker."""

import gc
import time

import pytest

from onboarding.models import OutboundCall
from providers.http import AuthenticationError
from providers.mcg import services as mcg_services
from providers.mcg.gateways import HttpGateway, OutgoingMessage, close_gateways
from providers.mcg.models import DeliveryAttempt, DeliveryStatus, InboxItem, ServiceRequest
from providers.sandbox import faults
from providers.sandbox.gateway.models import GatewayMessage

from .conftest import post_services, services_body


@pytest.fixture
def http_gateway(settings, live_server, transactional_db):
    settings.DELIVERY_GATEWAY_BACKEND = "providers.mcg.gateways.HttpGateway"
    settings.DELIVERY_GATEWAY_URL = f"{live_server.url}/sandbox/gateway"
    settings.DELIVERY_RETRY_DELAY = 0
    yield settings
    # Kept-alive connections would hold the live server's threads (and their database sessions) open;
    # a failed call's traceback can keep its socket alive in a reference cycle until collected.
    close_gateways()
    gc.collect()


def _send(client, provider, staff, channel="SMS", **headers):
    body = services_body(provider, staff, notification={"title": "Rappel", "message": "RDV lundi 9:15", "channel": channel})
    response = post_services(client, provider.token(), body, **headers)
    assert response.status_code == 201, response.content
    return InboxItem.objects.get(request__public_id=response.json()["id"])


def test_sms_goes_to_the_sandbox_gateway_over_http_and_is_on_record(client, provider_a, staff, http_gateway):
    item = _send(client, provider_a, staff)
    item.refresh_from_db()
    assert item.delivery_status == DeliveryStatus.DELIVERED
    message = GatewayMessage.objects.get()
    assert (message.channel, message.to, message.title, message.body) == ("sms", "+33612345678", "Rappel", "RDV lundi 9:15")
    attempt = item.attempts.get()
    assert attempt.succeeded and attempt.remote_id == message.message_id
    call = OutboundCall.objects.get(provider="gateway")
    assert call.status_code == 202 and call.user_id == staff.pk
    assert "sandbox-gateway-key" not in call.request_excerpt + call.response_excerpt
    assert ServiceRequest.objects.get().status == "delivered"


def test_push_goes_to_the_users_public_id(client, provider_a, staff, http_gateway):
    _send(client, provider_a, staff, channel="FCM")
    assert GatewayMessage.objects.get().to == f"user:{staff.public_id}"


def test_gateway_outage_is_retried_then_marked_failed_with_every_attempt_recorded(client, provider_a, staff, http_gateway):
    http_gateway.DELIVERY_MAX_ATTEMPTS = 3
    faults.set_profile("gateway", faults.FaultProfile(error_rate=1.0))
    item = _send(client, provider_a, staff)
    item.refresh_from_db()
    assert item.delivery_status == DeliveryStatus.FAILED
    attempts = list(item.attempts.order_by("attempt"))
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert [a.retryable for a in attempts] == [True, True, False]
    assert not any(a.succeeded for a in attempts)
    assert OutboundCall.objects.filter(provider="gateway", status_code=503).count() == 3
    assert not GatewayMessage.objects.exists()
    # The inbox has it all the same.
    assert InboxItem.objects.filter(user=staff).count() == 1
    assert ServiceRequest.objects.get().status == "failed"


def test_retries_after_an_unreadable_answer_do_not_send_twice(client, provider_a, staff, http_gateway):
    http_gateway.DELIVERY_MAX_ATTEMPTS = 2
    faults.set_profile("gateway", faults.FaultProfile(malformed_rate=1.0))
    item = _send(client, provider_a, staff)
    assert DeliveryAttempt.objects.filter(item=item).count() == 2
    assert GatewayMessage.objects.count() == 1


def test_sms_without_a_mobile_number_fails_without_retrying(client, provider_a, other_staff, http_gateway):
    item = _send(client, provider_a, other_staff)
    item.refresh_from_db()
    assert item.delivery_status == DeliveryStatus.FAILED
    attempt = item.attempts.get()
    assert not attempt.retryable and "mobile number" in attempt.error


def test_gateway_refuses_a_wrong_api_key(live_server, transactional_db):
    gateway = HttpGateway(base_url=f"{live_server.url}/sandbox/gateway", api_key="wrong")
    with pytest.raises(AuthenticationError):
        gateway.send(OutgoingMessage(message_id="m1", channel="sms", to="+33600000000", title="t", body="b"))
    gateway.transport.session.close()
    assert not GatewayMessage.objects.exists()


def test_delivery_of_an_already_delivered_item_does_nothing(provider_a, staff, db):
    item = InboxItem.objects.create(user=staff, kind="notification", title="t", channel="SMS", delivery_status="delivered")
    mcg_services.deliver_item(item.pk)
    assert not item.attempts.exists()


@pytest.mark.worker
def test_real_worker_delivers_through_the_http_gateway(celery_worker, client, provider_a, staff):
    item = _send(client, provider_a, staff, HTTP_IDEMPOTENCY_KEY="w-1")
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        item.refresh_from_db()
        if item.delivery_status != DeliveryStatus.PENDING:
            break
        time.sleep(0.3)
    assert item.delivery_status == DeliveryStatus.DELIVERED
    message = GatewayMessage.objects.get()
    assert message.to == staff.mobile_number
    attempt = item.attempts.get()
    assert attempt.succeeded and attempt.backend == "providers.mcg.gateways.HttpGateway"
    call = OutboundCall.objects.get(provider="gateway")
    assert call.task_id  # recorded from the worker's task
