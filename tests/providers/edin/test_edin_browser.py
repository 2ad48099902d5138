"""Connecting EDIN from the pharmacy page in headless Chromium."""

from __future__ import annotations

import pytest

from onboarding.models import AccountStatus
from providers.edin import services
from tests.conftest import screenshot

from .conftest import EDIN_EMAIL, EDIN_PASSWORD, STAFF_PASSWORD


def log_in(page, user):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/")


@pytest.mark.timeout(120)
def test_titulaire_connects_edin_from_the_pharmacy_page(page, pharmacy, titulaire, edin_url):
    log_in(page, titulaire)
    page.goto(pharmacy.get_absolute_url())
    panel = page.locator("#edin")
    assert "Not connected" in panel.locator("#edin-status").inner_text()

    page.get_by_label("EDIN email").fill(EDIN_EMAIL)
    page.get_by_label("EDIN password").fill("wrong-Password-1")
    panel.get_by_role("button", name="Connect EDIN").click()
    page.wait_for_selector("#edin[data-edin-state=wrong_credentials]")
    assert "Wrong email or password" in panel.locator("#edin-status").inner_text()

    page.get_by_label("EDIN password").fill(EDIN_PASSWORD)
    panel.get_by_role("button", name="Reconnect").click()
    page.wait_for_selector("#edin[data-edin-state=connected]")
    assert panel.locator("#edin-status").inner_text() == "Connected"
    assert EDIN_EMAIL in panel.inner_text()
    assert EDIN_PASSWORD not in page.content()
    path = screenshot(page, "edin-connected")
    assert path.stat().st_size > 5000
    assert services.edin_account(pharmacy).status == AccountStatus.ACTIVE

    panel.get_by_role("button", name="Disconnect").click()
    page.wait_for_selector("#edin[data-edin-state=not_connected]")
    assert services.edin_account(pharmacy).secrets == {}


@pytest.mark.timeout(120)
def test_stagiaire_sees_the_status_without_the_form(page, pharmacy, stagiaire, edin_url):
    log_in(page, stagiaire)
    page.goto(pharmacy.get_absolute_url())
    panel = page.locator("#edin")
    assert "titulaire or an adjoint" in panel.inner_text()
    assert panel.locator("input[type=password]").count() == 0
    screenshot(page, "edin-stagiaire")


@pytest.mark.timeout(150)
def test_the_page_follows_a_check_run_by_the_worker(celery_worker, page, pharmacy, adjoint, sandbox):
    sandbox.faults(latency_ms=1500)
    log_in(page, adjoint)
    page.goto(pharmacy.get_absolute_url())

    page.get_by_label("EDIN email").fill(EDIN_EMAIL)
    page.get_by_label("EDIN password").fill(EDIN_PASSWORD)
    page.locator("#edin").get_by_role("button", name="Connect EDIN").click()

    page.wait_for_selector("#edin[data-edin-state=checking]")
    assert "Checking" in page.locator("#edin-status").inner_text()
    screenshot(page, "edin-checking")
    # The page polls the status and shows the result without the user reloading.
    page.wait_for_selector("#edin[data-edin-state=connected]", timeout=30000)
    assert page.locator("#edin-status").inner_text() == "Connected"
