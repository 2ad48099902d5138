"""Headless Chromium through the inbox: the unread badge, an ad's picture, a coupon's QR code, mark unread."""

import pytest

from tests.conftest import loaded_image_width, screenshot

from .conftest import png_base64, post_services, services_body

pytestmark = pytest.mark.browser


def test_staff_reads_the_inbox_in_a_browser(page, client, provider_a, staff):
    body = services_body(
        provider_a,
        staff,
        notification={"title": "Rappel RDV", "message": "Ophtalmologiste lundi 29-10 à 9:15", "channel": "email"},
        advertisement={
            "title": "Promo été",
            "message": "Moins 20 % sur la gamme solaire",
            "channel": "FCM",
            "picture": png_base64((120, 60), (20, 120, 200)),
        },
        qr_code={"title": "Coupon -10 %", "message": "Valable en juin", "data": "COUPON-XYZ-42"},
    )
    assert post_services(client, provider_a.token(), body).status_code == 201

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill("a-long-Pass-phrase-42")
    page.get_by_role("button", name="Log in").click()
    inbox_link = page.locator("a.nav-inbox")
    assert inbox_link.locator(".badge").inner_text() == "3"

    inbox_link.click()
    page.wait_for_url("**/inbox/")
    assert page.locator(".inbox-item.unread").count() == 3
    screenshot(page, "mcg-inbox-list")

    page.get_by_role("link", name="Promo été").click()
    assert loaded_image_width(page.locator("img.inbox-picture")) == 120
    assert page.locator("a.nav-inbox .badge").inner_text() == "2"

    page.goto("/inbox/")
    page.get_by_role("link", name="Coupon -10 %").click()
    assert loaded_image_width(page.locator(".inbox-qr img")) > 100
    assert "COUPON-XYZ-42" in page.locator(".inbox-qr figcaption").inner_text()
    screenshot(page, "mcg-inbox-coupon")

    page.get_by_role("button", name="Mark as unread").click()
    page.wait_for_url("**/inbox/")
    assert page.locator("a.nav-inbox .badge").inner_text() == "2"
    assert page.locator(".inbox-item.read").count() == 1
