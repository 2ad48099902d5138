"""The staff inbox: unread count, list, detail, read/unread, pictures and QR codes only for the addressee."""

import io
import json

import pytest
from django.core.management import call_command
from PIL import Image

from providers.mcg.models import InboxItem, ServiceProvider

from .conftest import png_base64, post_services, services_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(client, provider_a, staff):
    body = services_body(
        provider_a,
        staff,
        notification={"title": "Rappel RDV", "message": "Lundi 9:15", "channel": "email"},
        advertisement={"title": "Promo été", "message": "Moins 20 %", "channel": "FCM", "picture": png_base64((40, 20))},
        qr_code={"title": "Coupon -10 %", "message": "Valable en juin", "data": "COUPON-XYZ-42"},
    )
    assert post_services(client, provider_a.token(), body).status_code == 201
    return {item.kind: item for item in InboxItem.objects.all()}


def test_header_shows_the_unread_count_and_the_list_shows_every_item(client, staff, items):
    client.force_login(staff)
    page = client.get("/inbox/").content.decode()
    assert 'class="nav-inbox"' in page
    assert '<span class="badge" aria-label="3 unread">3</span>' in page
    for title in ("Rappel RDV", "Promo été", "Coupon -10 %"):
        assert title in page
    assert "from Clinique Nano" in page


def test_detail_marks_read_and_shows_the_picture(client, staff, items):
    client.force_login(staff)
    ad = items["advertisement"]
    page = client.get(f"/inbox/{ad.public_id}/").content.decode()
    assert f"/inbox/{ad.public_id}/picture" in page
    ad.refresh_from_db()
    assert ad.read_at is not None
    picture = client.get(f"/inbox/{ad.public_id}/picture")
    assert picture["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(picture.content)).size == (40, 20)
    assert '<span class="badge" aria-label="2 unread">2</span>' in client.get("/inbox/").content.decode()


def test_coupon_shows_a_qr_code_that_decodes_to_a_png(client, staff, items):
    client.force_login(staff)
    coupon = items["coupon"]
    page = client.get(f"/inbox/{coupon.public_id}/").content.decode()
    assert f"/inbox/{coupon.public_id}/qr.png" in page
    qr = client.get(f"/inbox/{coupon.public_id}/qr.png")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(qr.content))
    assert image.size[0] == image.size[1] >= 100


def test_mark_unread_and_read_again(client, staff, items):
    client.force_login(staff)
    item = items["notification"]
    client.get(f"/inbox/{item.public_id}/")
    response = client.post(f"/inbox/{item.public_id}/mark", {"state": "unread", "next": "/inbox/?show=unread"})
    assert response.status_code == 302 and response["Location"] == "/inbox/?show=unread"
    item.refresh_from_db()
    assert item.read_at is None
    assert "Rappel RDV" in client.get("/inbox/?show=unread").content.decode()
    response = client.post(f"/inbox/{item.public_id}/mark", {"state": "read", "next": "https://evil.example/"})
    assert response["Location"] == "/inbox/"
    item.refresh_from_db()
    assert item.read_at is not None
    assert "Rappel RDV" not in client.get("/inbox/?show=unread").content.decode()


def test_only_the_addressee_sees_an_item(client, other_staff, items):
    client.force_login(other_staff)
    assert "Rappel RDV" not in client.get("/inbox/").content.decode()
    for item in items.values():
        assert client.get(f"/inbox/{item.public_id}/").status_code == 404
        assert client.post(f"/inbox/{item.public_id}/mark", {"state": "read"}).status_code == 404
    assert client.get(f"/inbox/{items['advertisement'].public_id}/picture").status_code == 404
    assert client.get(f"/inbox/{items['coupon'].public_id}/qr.png").status_code == 404
    assert InboxItem.objects.filter(read_at__isnull=False).count() == 0


def test_inbox_needs_a_login(client, items):
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(f"/inbox/{items['coupon'].public_id}/qr.png").status_code == 302


def test_create_service_provider_prints_one_json_object_with_working_credentials(client, capsys, staff):
    pharmacy = staff.memberships.get().pharmacy
    call_command(
        "create_service_provider", "--provider-id", "77", "--name", "Pharma+", "--service-id", "5", "--service-id", "6",
        "--pharmacy", str(pharmacy.public_id),
    )  # fmt: skip
    handover = json.loads(capsys.readouterr().out)
    assert handover["provider_id"] == 77 and handover["service_ids"] == [5, 6]
    assert handover["pharmacies"] == [str(pharmacy.public_id)] and handover["all_pharmacies"] is False
    assert handover["endpoints"]["token"] == "/mcg/v1/token"
    provider = ServiceProvider.objects.get(provider_id=77)
    assert handover["client_secret"] not in provider.client_secret_hash
    token = client.post(
        "/mcg/v1/token",
        {"grant_type": "client_credentials", "client_id": handover["client_id"], "client_secret": handover["client_secret"]},
    ).json()["access_token"]
    body = {
        "provider_id": 77,
        "service_token": handover["service_token"],
        "service_id": 6,
        "parameters": {"destination": str(staff.public_id), "qr_code": "TICKET-1"},
    }
    assert post_services(client, token, body).status_code == 201


def test_create_service_provider_links_every_pharmacy_given_or_all(capsys, staff, other_staff):
    first, second = (user.memberships.get().pharmacy for user in (staff, other_staff))
    call_command(
        "create_service_provider", "--provider-id", "78", "--name", "Two", "--pharmacy", str(first.public_id),
        "--pharmacy", str(second.public_id),
    )  # fmt: skip
    assert set(ServiceProvider.objects.get(provider_id=78).pharmacies.all()) == {first, second}
    call_command("create_service_provider", "--provider-id", "79", "--name", "All", "--all-pharmacies")
    everywhere = ServiceProvider.objects.get(provider_id=79)
    assert everywhere.all_pharmacies and not everywhere.pharmacies.exists()


@pytest.mark.parametrize("value", ["not-a-uuid", "6f1d9c3e-8b1a-4c2e-9f3a-2d4b5c6e7f80"])
def test_create_service_provider_refuses_an_unknown_pharmacy_and_creates_nothing(db, value):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="pharmacy"):
        call_command("create_service_provider", "--provider-id", "80", "--name", "X", "--pharmacy", value)
    assert not ServiceProvider.objects.filter(provider_id=80).exists()


def test_create_service_provider_refuses_a_duplicate_id(provider_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_service_provider", "--provider-id", str(provider_a.provider_id), "--name", "Again")
