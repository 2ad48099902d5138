"""make run's demo in a real browser: log in as the demo titulaire, open the pharmacy, "Open Bimedoc", signed in."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.providers.bimedoc.conftest import bimedoc_sandbox  # noqa: F401 - fixture

from .axe import assert_accessible, violations

pytestmark = pytest.mark.browser


def test_demo_titulaire_opens_bimedoc_on_the_first_click(page, bimedoc_sandbox, settings):  # noqa: F811
    settings.DEBUG = True  # load_demo is for development processes, as make run starts them
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert 'Click "Open Bimedoc"' in out.getvalue()
    settings.DEBUG = False

    page.goto("/accounts/login/")
    assert_accessible(page)
    assert gap_under_header(page, ".card") >= 16  # a one-card page keeps a margin under the header
    page.get_by_label("Email").fill("titulaire@demo.example")
    page.get_by_label("Password").fill("demo-pharmacy-2024")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("link", name="Pharmacie de la Gare (demo)").click()
    expect(page.locator("#bimedoc-members")).to_contain_text("Active")
    assert_accessible(page)
    screenshot(page, "demo-pharmacy")
    page.get_by_role("button", name="Open Bimedoc").click()
    expect(page).to_have_url(re.compile(r"/sandbox/bimedoc-app/sso/\?pharmacy=\d+&sso_token="))
    expect(page.locator("#sso-welcome")).to_contain_text("Welcome, Camille")
    expect(page.locator("#sso-user")).to_contain_text("titulaire@demo.example")
    expect(page.locator("#sso-pharmacy")).to_contain_text("Pharmacie de la Gare (demo)")
    screenshot(page, "demo-bimedoc-signed-in")


def gap_under_header(page, selector) -> float:
    header = page.locator(".site-header").bounding_box()
    return page.locator(selector).first.bounding_box()["y"] - (header["y"] + header["height"])


def test_one_card_pages_keep_a_margin_under_the_header(page, bimedoc_sandbox):  # noqa: F811
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        page.goto(url)
        assert gap_under_header(page, "main .card") >= 16, url
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto("/accounts/login/")
    assert gap_under_header(page, "main .card") >= 16


def test_the_accessibility_check_finds_what_it_must(page):
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>')
    assert "image-alt" in [v["id"] for v in violations(page)]


@pytest.mark.worker
def test_a_pharmacy_not_on_bimedoc_is_put_there_with_one_button(celery_worker, page, bimedoc_sandbox):  # noqa: F811
    from onboarding import services as onboarding_services
    from tests.providers.bimedoc.conftest import PASSWORD, make_staff

    titulaire = make_staff("claire@example.com")
    pharmacy = onboarding_services.create_pharmacy(titulaire=titulaire, name="Pharmacie du Port", city="Brest")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("claire@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.goto(pharmacy.get_absolute_url())
    expect(page.locator("#bimedoc-panel")).to_contain_text("This pharmacy is not on Bimedoc.")
    screenshot(page, "pharmacy-not-on-bimedoc")
    page.get_by_role("button", name="Put the pharmacy on Bimedoc").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    expect(page.locator("#job-done")).to_be_visible(timeout=30000)
    page.goto(pharmacy.get_absolute_url())
    page.get_by_role("button", name="Open Bimedoc").click()
    expect(page.locator("#sso-user")).to_contain_text("claire@example.com")
    expect(page.locator("#sso-pharmacy")).to_contain_text("Pharmacie du Port")
