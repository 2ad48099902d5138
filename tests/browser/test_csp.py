"""Every page carries a Content-Security-Policy, and no page (the admin's included) breaks it in Chromium."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from onboarding import services as onboarding_services
from onboarding.models import Job, OutboundCall
from providers.mcg import services as mcg_services
from providers.mcg.models import InboxItem, InboxKind
from tests.conftest import loaded_image_width, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "a-long-Pass-phrase-42"
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def portal_data(transactional_db):
    admin = onboarding_services.register_staff(email="root@example.com", password=PASSWORD, first_name="Root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    pharmacy = onboarding_services.create_pharmacy(titulaire=admin, name="Pharmacie du Port", city="Brest")
    provider, _secret = mcg_services.create_service_provider(provider_id=7, name="Clinique", service_ids=[1])
    ad = InboxItem.objects.create(
        user=admin, kind=InboxKind.ADVERTISEMENT, title="Promo", message="-20 %", picture=_png(), picture_type="image/png"
    )
    coupon = InboxItem.objects.create(user=admin, kind=InboxKind.COUPON, title="Coupon", qr_payload="COUPON-1")
    for minutes in (5, 20, 40):
        for outcome, ms in (("success", 80.0), ("success", 120.0), ("server_error", 300.0)):
            OutboundCall.objects.create(
                provider="bimedoc", operation="create_user", method="POST", path="/auth/user/", status_code=200,
                outcome=outcome, duration_ms=ms, created_at=timezone.now() - timedelta(minutes=minutes),
            )  # fmt: skip
    return {"admin": admin, "pharmacy": pharmacy, "provider": provider, "ad": ad, "coupon": coupon}


def test_pages_and_admin_run_under_the_policy_without_a_violation(page, live_server, portal_data):
    page.axe.paused = True  # axe-core sets inline styles: it checks these pages after the policy is checked
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(COLLECT_VIOLATIONS)

    response = page.goto("/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "img-src 'self' data:" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    page.get_by_label("Email").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Root").wait_for()

    pharmacy, provider = portal_data["pharmacy"], portal_data["provider"]
    job = Job.objects.first()
    pages = [
        "/",
        "/inbox/",
        f"/inbox/{portal_data['ad'].public_id}/",
        f"/inbox/{portal_data['coupon'].public_id}/",
        "/accounts/profile/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/activate/",
        "/accounts/sessions/",
        pharmacy.get_absolute_url(),
        "/pharmacies/new/",
        "/admin/",
        "/admin/mcg/serviceprovider/",
        f"/admin/mcg/serviceprovider/{provider.pk}/change/",
        "/admin/onboarding/outboundcall/",
        "/admin/onboarding/outboundcall/health/?window=1h",
        "/admin/onboarding/job/",
        "/admin/onboarding/pharmacy/",
        f"/admin/onboarding/pharmacy/{pharmacy.pk}/change/",
        "/admin/onboarding/user/",
        "/sandbox/edin/",
        "/sandbox/bimedoc-app/sso/",
    ]
    if job is not None:
        pages.append(f"/jobs/{job.public_id}/")
    for path in pages:
        response = page.goto(path)
        assert response.status < 500, path
        assert "content-security-policy" in response.headers, path
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
    screenshot(page, "csp-sandbox-sso")

    page.goto("/admin/onboarding/outboundcall/health/?window=1h")
    chart = page.locator(".health-card svg polyline").first
    assert chart.get_attribute("points")
    # The stylesheet that replaced the inline <style> applies.
    assert page.locator(".health-grid").evaluate("e => getComputedStyle(e).display") == "grid"
    screenshot(page, "csp-admin-health")

    # The picture is served from the portal and loads.
    page.goto(f"/inbox/{portal_data['ad'].public_id}/")
    assert loaded_image_width(page.locator("img.inbox-picture")) == 40

    # The language menu still applies the choice at once, from the static script.
    page.goto("/")
    page.select_option("#language-select", "fr")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "fr"

    assert not [text for text in console if "Content Security Policy" in text]

    for path in pages:
        page.goto(path)
        page.axe.check_now()
    assert len(page.axe.checked) >= len(pages) - 2  # the sandbox's pages are not the portal's


def test_api_answers_carry_the_policy_too(live_server, transactional_db):
    import requests

    response = requests.get(f"{live_server.url}/mcg/v1/openapi.json", timeout=10)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
