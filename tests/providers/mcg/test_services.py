"""POST /Services: authorization across providers, validation and the seed's status codes."""

import base64
import io
import json

import pytest
from django.core import mail
from PIL import Image

from providers.mcg.models import DeliveryStatus, InboxItem, InboxKind, ServiceRequest

from .conftest import forged, png_base64, post_services, services_body

pytestmark = pytest.mark.django_db


def test_notification_is_created_with_201_and_a_location_that_answers(
    client, provider_a, staff, django_capture_on_commit_callbacks
):
    token = provider_a.token()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_services(client, token, services_body(provider_a, staff))
    assert response.status_code == 201
    body = response.json()
    request = ServiceRequest.objects.get()
    assert response["Location"].endswith(f"/Services/{request.public_id}")
    assert body["id"] == str(request.public_id)
    assert body["destination"] == str(staff.public_id)
    item = InboxItem.objects.get()
    assert (item.user, item.kind, item.title, item.message, item.channel) == (
        staff,
        InboxKind.NOTIFICATION,
        "Clinique Dr. Nano",
        "Lundi 9:15",
        "SMS",
    )
    # Eager Celery with the console gateway: delivered.
    item.refresh_from_db()
    assert item.delivery_status == DeliveryStatus.DELIVERED
    assert item.attempts.get().succeeded
    detail = client.get(response["Location"], HTTP_AUTHORIZATION=f"Bearer {token}")
    assert detail.status_code == 200
    assert detail.json()["status"] == "delivered"
    assert detail.json()["items"][0]["delivery_status"] == "delivered"


def test_seed_spelling_of_fields_is_accepted(client, provider_a, staff):
    body = services_body(
        provider_a,
        staff,
        notification={"titulo": "Clínica Dr. Nano. Turno", "mensaje": "Oftalmologo Lunes 29-10 a las 9:15Hs.", "Canal": "sms"},
        advertisement={"Tittle": "Autos usados CHECHO", "Message": "Lleve su auto usado", "Cannel": "FCM"},
    )
    response = post_services(client, provider_a.token(), body)
    assert response.status_code == 201, response.json()
    kinds = sorted(InboxItem.objects.values_list("kind", "channel"))
    assert kinds == [("advertisement", "FCM"), ("notification", "SMS")]


def test_advertisement_picture_is_kept_and_email_goes_through_django_mail(
    client, provider_a, staff, django_capture_on_commit_callbacks
):
    body = services_body(
        provider_a,
        staff,
        advertisement={
            "title": "Promo",
            "message": "Moins 20 %",
            "channel": "email",
            "link": "https://example.com/promo",
            "picture": png_base64(),
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_services(client, provider_a.token(), body)
    assert response.status_code == 201
    item = InboxItem.objects.get()
    assert item.picture_type == "image/png"
    assert bytes(item.picture).startswith(b"\x89PNG")
    assert "[picture]" in json.dumps(ServiceRequest.objects.get().payload)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [staff.email]
    assert mail.outbox[0].subject == "Promo"
    assert "https://example.com/promo" in mail.outbox[0].body
    assert item.attempts.get().backend == "django.core.mail"


def test_qr_code_creates_a_coupon_kept_in_the_inbox_only(client, provider_a, staff):
    body = services_body(provider_a, staff, qr_code={"title": "Coupon -10 %", "data": "COUPON-1234"})
    response = post_services(client, provider_a.token(), body)
    assert response.status_code == 201
    item = InboxItem.objects.get()
    assert (item.kind, item.qr_payload, item.channel, item.delivery_status) == ("coupon", "COUPON-1234", "", "delivered")
    assert response.json()["status"] == "delivered"


def test_same_idempotency_key_twice_is_409_and_nothing_is_sent_twice(
    client, provider_a, provider_b, staff, django_capture_on_commit_callbacks
):
    body = services_body(provider_a, staff, notification={"title": "T", "message": "M", "channel": "email"})
    with django_capture_on_commit_callbacks(execute=True):
        first = post_services(client, provider_a.token(), body, HTTP_IDEMPOTENCY_KEY="order-1")
        second = post_services(client, provider_a.token(), body, HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"] == "conflict"
    assert second["Location"] == first["Location"]
    assert ServiceRequest.objects.count() == 1
    assert len(mail.outbox) == 1
    # Keys are per provider: B may use the same key.
    body_b = services_body(provider_b, staff)
    assert post_services(client, provider_b.token(), body_b, HTTP_IDEMPOTENCY_KEY="order-1").status_code == 201


def _expect(response, status, error):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    return body


def test_no_token_or_bad_token_is_401(client, provider_a, staff):
    body = json.dumps(services_body(provider_a, staff))
    response = client.post("/Services", body, content_type="application/json")
    _expect(response, 401, "invalid_request")
    assert response["WWW-Authenticate"].startswith("Bearer")
    response = client.post("/Services", body, content_type="application/json", HTTP_AUTHORIZATION="Bearer x.y.z")
    _expect(response, 401, "invalid_token")
    token = forged(sub=str(provider_a.provider_id), client_id=provider_a.client_id)
    _expect(post_services(client, token, services_body(provider_a, staff)), 401, "invalid_token")
    response = client.post("/Services", body, content_type="application/json", HTTP_AUTHORIZATION=provider_a.basic())
    _expect(response, 401, "invalid_token")


def test_a_tokeninfo_only_token_is_403(client, provider_a, staff):
    _expect(
        post_services(client, provider_a.token(scope="tokeninfo"), services_body(provider_a, staff)), 403, "insufficient_scope"
    )


def test_inactive_provider_token_is_401(client, provider_a, staff):
    token = provider_a.token()
    provider_a.model.active = False
    provider_a.model.save()
    _expect(post_services(client, token, services_body(provider_a, staff)), 401, "invalid_token")


def test_provider_cannot_use_another_providers_id_service_token_or_services(client, provider_a, provider_b, staff):
    token_a = provider_a.token()
    as_b = services_body(provider_b, staff)
    _expect(post_services(client, token_a, as_b), 403, "forbidden")
    # Own provider_id with B's service token.
    mixed = {**services_body(provider_a, staff), "service_token": provider_b.service_token}
    assert "service_token" in _expect(post_services(client, token_a, mixed), 403, "forbidden")["error_description"]
    # Own credentials, B's service id.
    other_service = {**services_body(provider_a, staff), "service_id": 3}
    assert "service 3" in _expect(post_services(client, token_a, other_service), 403, "forbidden")["error_description"]
    assert not InboxItem.objects.exists()


def test_provider_cannot_read_another_providers_request(client, provider_a, provider_b, staff):
    created = post_services(client, provider_a.token(), services_body(provider_a, staff))
    _expect(client.get(created["Location"], HTTP_AUTHORIZATION=f"Bearer {provider_b.token()}"), 404, "not_found")
    _expect(client.get("/Services/not-a-uuid", HTTP_AUTHORIZATION=f"Bearer {provider_a.token()}"), 404, "not_found")


def test_unknown_destination_is_404(client, provider_a, staff):
    body = services_body(provider_a, staff)
    body["parameters"]["destination"] = "00000000-0000-4000-8000-000000000000"
    _expect(post_services(client, provider_a.token(), body), 404, "not_found")


def test_micropayment_is_400_not_offered(client, provider_a, staff):
    body = services_body(provider_a, staff, microPayment={"amount": 10})
    result = _expect(post_services(client, provider_a.token(), body), 400, "invalid_request")
    assert "not offered" in result["error_description"]


@pytest.mark.parametrize("text", ["\x00", "\ud800"])
def test_nul_and_lone_surrogates_are_400_and_nothing_is_stored(client, provider_a, staff, text):
    from providers.mcg.models import InboxItem

    body = services_body(provider_a, staff)
    body["parameters"]["notification"]["message"] = text
    raw = json.dumps(body)  # ensure_ascii keeps the lone surrogate as an escape, as a client would send it
    auth = {"HTTP_AUTHORIZATION": f"Bearer {provider_a.token()}"}
    result = _expect(client.post("/Services", raw, content_type="application/json", **auth), 400, "invalid_request")
    assert "not text" in result["error_description"]
    assert not InboxItem.objects.exists()


def _tiny_png_of(size):
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    "parameters,field",
    [
        ({"notification": {"title": "x" * 33, "message": "m", "channel": "SMS"}}, "parameters.notification.title"),
        ({"notification": {"title": "t", "message": "x" * 167, "channel": "SMS"}}, "parameters.notification.message"),
        ({"notification": {"title": "t", "message": "m", "channel": "PIGEON"}}, "parameters.notification.channel"),
        ({"notification": {"title": "t", "message": "m", "channel": 1}}, "parameters.notification.channel"),
        ({"notification": {"title": "", "message": "m", "channel": "SMS"}}, "parameters.notification.title"),
        ({"notification": {"message": "m", "channel": "SMS"}}, "parameters.notification.title"),
        (
            {"notification": {"title": "t", "message": "m", "channel": "SMS", "link": "javascript:alert(1)"}},
            "parameters.notification.link",
        ),
        ({"notification": {"title": "t", "message": "m", "channel": "SMS", "colour": "red"}}, "parameters.notification.colour"),
        ({"notification": "hello"}, "parameters.notification"),
        (
            {"advertisement": {"title": "t", "message": "m", "channel": "FCM", "picture": "!!!"}},
            "parameters.advertisement.picture",
        ),
        (
            {
                "advertisement": {
                    "title": "t",
                    "message": "m",
                    "channel": "FCM",
                    "picture": base64.b64encode(b"GIF89a-not-really").decode(),
                }
            },
            "parameters.advertisement.picture",
        ),
        (
            {"advertisement": {"title": "t", "message": "m", "channel": "FCM", "picture": _tiny_png_of((5000, 5000))}},
            "parameters.advertisement.picture",
        ),
        ({"qr_code": {"title": "t"}}, "parameters.qr_code.data"),
        ({}, "parameters"),
        ({"sms": {}}, "parameters.sms"),
    ],
)
def test_invalid_parameters_are_400_with_the_field_named(client, provider_a, staff, parameters, field):
    body = services_body(provider_a, staff)
    body["parameters"] = {"destination": str(staff.public_id), **parameters}
    result = _expect(post_services(client, provider_a.token(), body), 400, "invalid_request")
    assert field in result["field_errors"], result
    assert not InboxItem.objects.exists()


@pytest.mark.parametrize(
    "change,field",
    [
        ({"provider_id": "abc"}, "provider_id"),
        ({"provider_id": True}, "provider_id"),
        ({"provider_id": 2**64}, "provider_id"),
        ({"service_token": "nope"}, "service_token"),
        ({"service_id": None}, "service_id"),
        ({"parameters": []}, "parameters"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_top_level_fields_are_400(client, provider_a, staff, change, field):
    body = {**services_body(provider_a, staff), **change}
    result = _expect(post_services(client, provider_a.token(), body), 400, "invalid_request")
    assert field in result["field_errors"]


def test_destination_must_be_a_uuid(client, provider_a, staff):
    body = services_body(provider_a, staff)
    body["parameters"]["destination"] = "12"
    result = _expect(post_services(client, provider_a.token(), body), 400, "invalid_request")
    assert "parameters.destination" in result["field_errors"]


def test_bad_json_content_type_and_huge_bodies(client, provider_a, settings):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {provider_a.token()}"}
    _expect(client.post("/Services", "{not json", content_type="application/json", **auth), 400, "invalid_request")
    _expect(client.post("/Services", b"\xff\xfe", content_type="application/json", **auth), 400, "invalid_request")
    _expect(client.post("/Services", "[1, 2]", content_type="application/json", **auth), 400, "invalid_request")
    _expect(client.post("/Services", "[" * 100_000, content_type="application/json", **auth), 400, "invalid_request")
    _expect(client.post("/Services", "a=1", content_type="text/plain", **auth), 415, "invalid_request")
    settings.MCG_MAX_BODY_BYTES = 100
    _expect(
        client.post("/Services", json.dumps({"x": "y" * 200}), content_type="application/json", **auth), 413, "invalid_request"
    )


def test_bad_idempotency_key_is_400(client, provider_a, staff):
    response = post_services(client, provider_a.token(), services_body(provider_a, staff), HTTP_IDEMPOTENCY_KEY="k" * 300)
    _expect(response, 400, "invalid_request")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405_with_allow(client, method):
    response = getattr(client, method)("/Services")
    body = _expect(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"
    assert body["error_description"]


def test_request_detail_allows_only_get(client, provider_a, staff):
    created = post_services(client, provider_a.token(), services_body(provider_a, staff))
    response = client.delete(created["Location"], HTTP_AUTHORIZATION=f"Bearer {provider_a.token()}")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
