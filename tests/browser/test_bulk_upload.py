"""Bulk onboarding in a real browser with a real worker: errors first, then the progress page reaches done; re-upload skips."""

import re

import pytest
from playwright.sync_api import expect

from onboarding import services
from onboarding.models import Job, JobStatus, User
from providers.bimedoc.models import BulkUpload, RowOutcome
from providers.bimedoc.selectors import KIND_ONBOARD
from providers.sandbox import faults
from tests.conftest import screenshot
from tests.providers.bimedoc.conftest import bimedoc_sandbox  # noqa: F401 - fixture

from .axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.worker]

PASSWORD = "x-long-Pass-phrase-42"
HEADER = "email,first_name,last_name,mobile_number,rpps_number,gender,name,phone_number,street,city,postcode\n"
ANNE = "anne@example.com,Anne,Martin,06 12 34 56 78,10101234567,f,Pharmacie A,01 45 67 89 00,1 rue A,Lyon,69001\n"
BRUNO = "bruno@example.com,Bruno,Petit,,,m,Pharmacie B,,,Brest,29200\n"
BAD_BRUNO = "bruno@example.com,Bruno,Petit,,,x,Pharmacie B,,,Brest,29200\n"


def test_admin_uploads_fixes_and_follows_the_onboardings(celery_worker, page, bimedoc_sandbox, tmp_path):  # noqa: F811
    admin = User.objects.create_superuser(email="it-lead@example.com", password=PASSWORD)
    services.mark_email_verified(admin)
    bad = tmp_path / "pharmacies-bad.csv"
    bad.write_text(HEADER + ANNE + BAD_BRUNO, encoding="utf-8")
    good = tmp_path / "pharmacies.csv"
    good.write_text(HEADER + ANNE + BRUNO, encoding="utf-8")

    page.goto("/admin/bimedoc/bulkupload/add/")
    page.get_by_label("Email").fill("it-lead@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Bulk onboarding: upload a CSV file")).to_be_visible()
    assert_accessible(page)

    # One bad row: every error listed, nothing started.
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    errors = page.locator("#bulk-error-list tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("3")
    expect(errors.first).to_contain_text("gender")
    expect(page.locator("#bulk-errors")).to_contain_text("Nothing was started")
    assert_accessible(page)
    screenshot(page, "bulk-upload-errors")
    assert not Job.objects.exists()

    # Fixed: the progress page follows the real worker until every row is done.
    faults.set_profile("bimedoc", faults.FaultProfile(latency_ms=1500))  # long enough to see the page follow the jobs
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Upload and check").click()
    expect(page).to_have_url(re.compile(r"/admin/bimedoc/bulkupload/\d+/progress/$"))
    expect(page.locator("#bulk-progress")).to_have_attribute("data-final", "false")
    expect(page.locator("#bulk-figures")).to_have_text("2 / 2 (100 %)", timeout=60000)
    expect(page.locator("#bulk-progress")).to_have_attribute("data-final", "true")
    expect(page.locator("#bulk-status")).to_have_text("Onboardings started")
    expect(page.locator("#bulk-rows .state")).to_have_text(["Done", "Done"])
    assert_accessible(page)
    screenshot(page, "bulk-upload-progress-done")
    assert Job.objects.filter(kind=KIND_ONBOARD, status=JobStatus.SUCCEEDED).count() == 2
    faults.set_profile("bimedoc", None)

    # Each row links to its job.
    page.locator("#bulk-rows .job a").first.click()
    expect(page).to_have_url(re.compile(r"/admin/onboarding/job/\d+/change/$"))
    assert_accessible(page)

    # The same file again: every row skipped, nothing sent again.
    page.goto("/admin/bimedoc/bulkupload/add/")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("#bulk-figures")).to_have_text("2 / 2 (100 %)", timeout=60000)
    expect(page.locator("#bulk-rows tbody tr td:nth-child(4)")).to_have_text(["Already done", "Already done"])
    again = BulkUpload.objects.order_by("pk").last()
    assert set(again.rows.values_list("outcome", flat=True)) == {RowOutcome.SKIPPED}
    assert Job.objects.filter(kind=KIND_ONBOARD).count() == 2

    page.goto("/admin/bimedoc/bulkupload/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    assert_accessible(page)
