"""The sandbox delivery gateway: API key, validation, deduplication by message_id, fault injection."""

import json

import pytest

from providers.sandbox import faults
from providers.sandbox.gateway.models import GatewayMessage

pytestmark = pytest.mark.django_db

URL = "/sandbox/gateway/messages"
AUTH = {"HTTP_AUTHORIZATION": "Bearer sandbox-gateway-key"}
MESSAGE = {"message_id": "m-1", "channel": "sms", "to": "+33612345678", "title": "T", "body": "Hello", "link": ""}


def _post(client, body, **extra):
    return client.post(URL, json.dumps(body), content_type="application/json", **extra)


def test_accepts_a_message_once_and_answers_the_same_receipt_again(client):
    first = _post(client, MESSAGE, **AUTH)
    assert first.status_code == 202
    assert first.json()["id"] == "m-1"
    again = _post(client, {**MESSAGE, "body": "changed"}, **AUTH)
    assert again.status_code == 200
    assert again.json()["id"] == "m-1"
    assert GatewayMessage.objects.get().body == "Hello"
    listing = client.get(URL, **AUTH).json()["results"]
    assert [m["id"] for m in listing] == ["m-1"]


def test_refuses_a_missing_or_wrong_api_key(client):
    assert _post(client, MESSAGE).status_code == 401
    assert _post(client, MESSAGE, HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert not GatewayMessage.objects.exists()


@pytest.mark.parametrize(
    "change,field",
    [({"channel": "fax"}, "channel"), ({"to": ""}, "to"), ({"body": "x" * 1001}, "body"), ({"title": 3}, "title")],
)
def test_validates_messages(client, change, field):
    response = _post(client, {**MESSAGE, **change}, **AUTH)
    assert response.status_code == 400
    assert field in response.json()


def test_malformed_json_is_400(client):
    assert client.post(URL, "{", content_type="application/json", **AUTH).status_code == 400


def test_fault_profile_makes_it_unavailable(client):
    faults.set_profile("gateway", faults.FaultProfile(error_rate=1.0))
    assert _post(client, MESSAGE, **AUTH).status_code == 503
    assert not GatewayMessage.objects.exists()
