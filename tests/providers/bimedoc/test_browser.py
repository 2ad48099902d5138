"""Headless Chromium: log in, run the wizard, watch the job finish, click "Open Bimedoc", land signed in."""

import re

import pytest
from playwright.sync_api import expect

from onboarding.models import Job, JobStatus
from providers.sandbox import faults
from tests.conftest import screenshot

from .conftest import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_wizard_to_bimedoc_in_the_browser(celery_worker, page, bimedoc_sandbox):
    make_staff("claire@example.com")
    # Slow Bimedoc a little so the status page is seen following the job.
    faults.set_profile("bimedoc", faults.FaultProfile(latency_ms=600))

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("claire@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Set up a pharmacy").click()

    expect(page.get_by_label("Last name")).to_have_value("Dupont")  # prefilled from the profile
    page.get_by_label("RPPS number").fill("10101234567")
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Pharmacy name").fill("Pharmacie du Port")
    page.get_by_label("Phone number").fill("+33 1 45 67 89 00")
    page.get_by_label("Street and number").fill("2 quai Nord")
    page.get_by_label("City").fill("Brest")
    page.get_by_label("Postcode").fill("29200")
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_text("Pharmacie du Port")).to_be_visible()
    page.get_by_role("button", name="Create the pharmacy").click()

    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    expect(page.locator("#job-wait")).to_be_visible()  # not finished yet: the page follows the job
    expect(page.locator("#job-done")).to_be_visible(timeout=30000)
    expect(page.locator("#job-steps li.done")).to_have_count(2)
    screenshot(page, "bimedoc-wizard-done")
    assert Job.objects.get().status == JobStatus.SUCCEEDED

    page.get_by_role("link", name="Go to the pharmacy").click()
    expect(page.locator("#bimedoc-members")).to_contain_text("Active")
    screenshot(page, "bimedoc-pharmacy-page")
    page.get_by_role("button", name="Open Bimedoc").click()
    expect(page).to_have_url(re.compile(r"/sandbox/bimedoc-app/sso/\?pharmacy=\d+&sso_token="))
    expect(page.locator("#sso-user")).to_contain_text("claire@example.com")
    expect(page.locator("#sso-pharmacy")).to_contain_text("Pharmacie du Port")
    screenshot(page, "bimedoc-sso-landing")
