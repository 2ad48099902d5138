"""What providers send is made safe before it is stored: one-line titles and messages, pictures decoded and drawn again."""

import base64
import io
import json

import pytest
import requests
from PIL import Image, TiffImagePlugin

from providers.mcg import services
from providers.mcg.models import DeliveryStatus, InboxItem, InboxKind, ServiceRequest

from .conftest import png_base64


@pytest.fixture
def send(live_server, transactional_db, provider_a, staff):
    def send(**parameters):
        body = {
            "provider_id": provider_a.provider_id,
            "service_token": provider_a.service_token,
            "service_id": provider_a.model.service_ids[0],
            "parameters": {"destination": str(staff.public_id), **parameters},
        }
        return requests.post(
            f"{live_server.url}/Services",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {provider_a.token()}", "Content-Type": "application/json"},
            timeout=10,
        )

    return send


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "field,value",
    [
        ("title", "Rappel\nBcc: everyone@example.com"),
        ("title", "Rappel\r"),
        ("title", "Tab\there"),
        ("message", "Lundi\n9:15"),
        ("message", "Bell \x07"),
        ("message", "Line\u2028separator"),
    ],
)
def test_control_characters_in_titles_and_messages_are_refused(send, field, value):
    notification = {"title": "Rappel", "message": "Lundi 9:15", "channel": "email", field: value}
    response = send(notification=notification)
    assert response.status_code == 400
    assert f"parameters.notification.{field}" in response.json()["field_errors"]
    assert not ServiceRequest.objects.exists() and not InboxItem.objects.exists()


def test_an_item_stored_with_a_line_break_in_its_title_fails_instead_of_staying_pending(db, staff):
    item = InboxItem.objects.create(user=staff, kind=InboxKind.NOTIFICATION, title="Two\nlines", message="m", channel="email")
    services.deliver_item(item.pk)
    item.refresh_from_db()
    assert item.delivery_status == DeliveryStatus.FAILED
    assert "line break" in item.attempts.get().error


def test_pictures_are_drawn_again_so_trailing_payloads_are_not_stored(send):
    original = base64.b64decode(png_base64((30, 20), (10, 200, 30)))
    polyglot = original + b"<script>alert(document.cookie)</script>"
    response = send(advertisement={"title": "Promo", "message": "-20 %", "channel": "FCM", "picture": _b64(polyglot)})
    assert response.status_code == 201
    stored = bytes(InboxItem.objects.get().picture)
    assert b"<script>" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and image.size == (30, 20)
        assert image.getpixel((0, 0))[:3] == (10, 200, 30)


def test_picture_metadata_is_dropped(send):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "secret location note"  # ImageDescription
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buffer, format="JPEG", exif=exif)
    assert b"secret location note" in buffer.getvalue()
    response = send(advertisement={"title": "Promo", "message": "-20 %", "channel": "FCM", "picture": _b64(buffer.getvalue())})
    assert response.status_code == 201
    item = InboxItem.objects.get()
    assert item.picture_type == "image/jpeg"
    assert b"secret location note" not in bytes(item.picture)


def test_animated_gifs_keep_their_frames(send):
    frames = [Image.new("RGB", (8, 8), color) for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    response = send(advertisement={"title": "Promo", "message": "-20 %", "channel": "FCM", "picture": _b64(buffer.getvalue())})
    assert response.status_code == 201
    with Image.open(io.BytesIO(bytes(InboxItem.objects.get().picture))) as image:
        assert image.format == "GIF" and image.n_frames == 3


def test_other_formats_are_never_handed_to_their_decoders(send, monkeypatch):
    opened = []
    original_open = TiffImagePlugin.TiffImageFile._open
    monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "_open", lambda self: opened.append(1) or original_open(self))
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="TIFF")
    response = send(advertisement={"title": "Promo", "message": "-20 %", "channel": "FCM", "picture": _b64(buffer.getvalue())})
    assert response.status_code == 400
    assert "allowed formats" in json.dumps(response.json())
    assert opened == []
