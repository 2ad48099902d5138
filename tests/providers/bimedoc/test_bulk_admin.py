"""Bulk onboarding in Django admin: every row's errors first and nothing started, then the onboardings and their progress."""

import os
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from onboarding.models import Job, JobStatus, User
from providers.bimedoc.models import BulkUpload, RowOutcome, UploadStatus
from providers.bimedoc.selectors import KIND_ONBOARD, KIND_START_UPLOAD

from .conftest import make_staff

ADD_URL = reverse("admin:bimedoc_bulkupload_add")
HEADER = "email,first_name,last_name,mobile_number,rpps_number,gender,name,phone_number,street,city,postcode\n"
ANNE = "anne@example.com,Anne,Martin,06 12 34 56 78,10101234567,f,Pharmacie A,01 45 67 89 00,1 rue A,Lyon,69001\n"
BRUNO = "bruno@example.com,Bruno,Petit,,,m,Pharmacie B,,,Brest,29200\n"
GOOD = HEADER + ANNE + BRUNO
ADMIN_EMAIL = "it-lead@example.com"


@pytest.fixture
def admin(db):
    return User.objects.create_superuser(email=ADMIN_EMAIL, password="x-long-Pass-phrase-42")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def upload(client, content: bytes | str, name="pharmacies.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(ADD_URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def nothing_started():
    return not Job.objects.exists() and not User.objects.exclude(email=ADMIN_EMAIL).exclude(is_staff=True).exists()


def onboardings():
    return Job.objects.filter(kind=KIND_ONBOARD)


def test_a_valid_file_starts_every_row_and_shows_its_progress(admin_client, admin, bimedoc_sandbox):
    response = upload(admin_client, GOOD)
    stored = BulkUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:bimedoc_bulkupload_progress", args=[stored.pk])
    stored.refresh_from_db()
    assert stored.uploaded_by == admin and stored.status == UploadStatus.STARTED and stored.row_count == 2
    assert list(stored.rows.values_list("line", "email", "outcome")) == [
        (2, "anne@example.com", RowOutcome.STARTED),
        (3, "bruno@example.com", RowOutcome.STARTED),
    ]
    assert all(row.job.status == JobStatus.SUCCEEDED for row in stored.rows.all())
    state = admin_client.get(reverse("admin:bimedoc_bulkupload_progress_json", args=[stored.pk])).json()
    assert state["total"] == 2 and state["final"] == 2 and state["percent"] == 100 and state["is_final"]
    assert state["counts"] == [{"state": "succeeded", "label": "Done", "n": 2}]
    assert [r["job_url"] for r in state["rows"]] == [
        reverse("admin:onboarding_job_change", args=[row.job_id]) for row in stored.rows.all()
    ]
    page = admin_client.get(response["Location"]).content.decode()
    assert 'id="bulk-bar"' in page and "anne@example.com" in page and "Done" in page
    assert "admin-bulk.js" in page and "<script>" not in page


def test_one_bad_row_shows_every_error_and_starts_nothing(admin_client, bimedoc_sandbox):
    bad = "carla@example.com,Carla,Roux,12,123,x,,,,,\n"
    response = upload(admin_client, HEADER + ANNE + bad)
    page = response.content.decode()
    assert response.status_code == 400
    for column in ("mobile_number", "rpps_number", "gender", "name"):
        assert f"<td>3</td><td>{column}</td>" in page
    assert "Nothing was started" in page and nothing_started()
    stored = BulkUpload.objects.get()
    assert stored.status == UploadStatus.INVALID
    assert dict(stored.rows.values_list("line", "outcome")) == {2: RowOutcome.HELD, 3: RowOutcome.INVALID}
    # Corrected, the file starts.
    response = upload(admin_client, HEADER + ANNE + bad.replace("12,123,x,", ",,f,Pharmacie C"))
    assert response.status_code == 302 and onboardings().filter(status=JobStatus.SUCCEEDED).count() == 2


def test_uploading_the_same_file_again_skips_every_row(admin_client, bimedoc_sandbox):
    upload(admin_client, GOOD)
    upload(admin_client, GOOD)
    again = BulkUpload.objects.order_by("pk").last()
    assert set(again.rows.values_list("outcome", flat=True)) == {RowOutcome.SKIPPED}
    assert onboardings().count() == 2
    assert Job.objects.filter(kind=KIND_START_UPLOAD, status=JobStatus.SUCCEEDED).count() == 2  # one per upload


ROW_ERRORS = [
    ("duplicate emails", HEADER + ANNE + ANNE.replace("Pharmacie A", "Pharmacie Z"), "3", "email", "also on line 2"),
    ("a row with more cells", HEADER + ANNE + BRUNO.replace("29200", "29200,extra"), "3", "—", "12 cells"),
    ("a row with fewer cells", HEADER + ANNE + "bruno@example.com,Bruno\n", "3", "—", "2 cells"),
]


@pytest.mark.parametrize("case,content,line,column,message", ROW_ERRORS, ids=[c[0] for c in ROW_ERRORS])
def test_row_errors_name_the_line_and_column(admin_client, case, content, line, column, message):
    response = upload(admin_client, content)
    page = response.content.decode()
    assert response.status_code == 400 and f"<td>{line}</td><td>{column}</td>" in page and message in page
    assert nothing_started()


FILE_ERRORS = [
    ("wrong encoding", (HEADER + "elise@example.com,Élise,Hervé,,,f,Pharmacie É,,,,\n").encode("latin-1"), "not UTF-8"),
    ("wrong delimiter", GOOD.replace(",", "|"), "not separated by commas, semicolons or tabs"),
    ("wrong header", "mail,prenom,nom\nanne@example.com,Anne,Martin\n", "Unknown column"),
    ("missing columns", "email,first_name,last_name\nanne@example.com,Anne,Martin\n", "Missing column (required)"),
    ("extra columns", HEADER.replace("\n", ",fax\n") + ANNE.replace("\n", ",0100\n"), "Unknown column"),
    ("repeated column", HEADER.replace("\n", ",city\n") + ANNE.replace("\n", ",Lyon\n"), "This column appears twice"),
    ("header only", HEADER, "no rows"),
    ("binary junk", b"\x00\x01\x02PK\x03\x04" * 1000, "not text"),
]


@pytest.mark.parametrize("case,content,message", FILE_ERRORS, ids=[c[0] for c in FILE_ERRORS])
def test_a_file_that_is_not_an_import_gets_a_clear_error_and_starts_nothing(admin_client, case, content, message):
    response = upload(admin_client, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert BulkUpload.objects.get().status == UploadStatus.INVALID
    assert nothing_started()


def test_fifty_megabytes_of_junk_are_refused_unread(admin_client):
    response = upload(admin_client, os.urandom(50 * 1024 * 1024), name="junk.csv")
    assert response.status_code == 400 and "The file is too large" in response.content.decode()
    stored = BulkUpload.objects.get()
    assert stored.status == UploadStatus.INVALID and stored.size == 50 * 1024 * 1024 and not stored.rows.exists()
    assert nothing_started()


def test_an_upload_without_a_file_is_a_form_error(admin_client):
    response = admin_client.post(ADD_URL, {})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not BulkUpload.objects.exists()


@pytest.mark.parametrize("content", ["", "\n \n"])
def test_an_empty_file_is_refused(admin_client, content):
    response = upload(admin_client, content)
    assert response.status_code == 400 and "empty" in response.content.decode()
    assert nothing_started()


def test_a_non_staff_user_is_refused(client, db):
    client.force_login(make_staff("claire@example.com"))
    response = upload(client, GOOD)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not BulkUpload.objects.exists() and not Job.objects.exists()


def test_staff_without_the_permission_are_refused(client, db):
    clerk = make_staff("clerk@example.com")
    User.objects.filter(pk=clerk.pk).update(is_staff=True)
    client.force_login(clerk)
    assert upload(client, GOOD).status_code == 403
    assert not BulkUpload.objects.exists() and not Job.objects.exists()


def test_anonymous_uploads_go_to_the_login_page(client, db):
    response = upload(client, GOOD)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not BulkUpload.objects.exists()


def test_starting_twice_starts_each_row_once(admin_client, bimedoc_sandbox):
    from providers.bimedoc import bulk_uploads

    upload(admin_client, GOOD)
    stored = BulkUpload.objects.get()
    assert bulk_uploads.start(stored.pk) == 0  # a redelivered task finds nothing left to start
    assert onboardings().count() == 2


def test_a_row_that_can_no_longer_start_is_refused_with_its_reason(admin, bimedoc_sandbox):
    from providers.bimedoc import bulk_uploads
    from providers.bimedoc.models import BulkUploadRow

    from .test_pharmacy_page import onboarded

    onboarded("anne@example.com")  # got a Bimedoc account after the file was checked
    stored = BulkUpload.objects.create(uploaded_by=admin, file_name="f.csv", size=1, sha256="", status=UploadStatus.STARTING)
    BulkUploadRow.objects.create(
        upload=stored, line=2, email="anne@example.com", outcome=RowOutcome.QUEUED,
        data={"profile": {"first_name": "Anne", "last_name": "Martin", "mobile_number": "", "rpps_number": "", "gender": "f"},
              "pharmacy": {"name": "Pharmacie Z", "phone_number": "", "street": "", "city": "", "postcode": ""}},
    )  # fmt: skip
    assert bulk_uploads.start(stored.pk) == 1
    row = stored.rows.get()
    assert row.outcome == RowOutcome.REFUSED and "already has a Bimedoc account" in row.problems[0]["message"]
    stored.refresh_from_db()
    assert stored.status == UploadStatus.STARTED
    assert bulk_uploads.progress(stored)["is_final"]


def test_starting_the_rows_is_a_job_the_sweep_takes_up_when_its_task_is_lost(admin_client, admin, bimedoc_sandbox, settings):
    from onboarding import jobs

    settings.JOB_SWEEP_GRACE = 0
    with jobs.publishing(None):  # the worker never gets the start: a crash between the commit and the publish
        upload(admin_client, GOOD)
    stored = BulkUpload.objects.get()
    start = Job.objects.get(kind=KIND_START_UPLOAD)
    assert (start.status, start.requested_by, start.payload) == (JobStatus.PENDING, admin, {"upload_id": stored.pk})
    assert stored.status == UploadStatus.STARTING and not onboardings().exists()
    Job.objects.filter(pk=start.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert jobs.sweep() == 1
    start.refresh_from_db()
    stored.refresh_from_db()
    assert start.status == JobStatus.SUCCEEDED and start.steps["start_rows"]["started"] == 2
    assert stored.status == UploadStatus.STARTED and onboardings().filter(status=JobStatus.SUCCEEDED).count() == 2


def test_titulaires_who_cannot_get_an_account_are_checked_in_batches(bimedoc_sandbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from onboarding import jobs
    from providers.bimedoc import bulk, services

    from .test_pharmacy_page import onboarded

    def checked(emails):
        lines = "".join(f"{email},A,B,,,f,Pharmacie {i},,,Lyon,69001\n" for i, email in enumerate(emails))
        with CaptureQueriesContext(connection) as queries:
            rows = bulk.parse((HEADER + lines).encode())
        return [[p.message for p in row.problems] for row in rows], len(queries.captured_queries)

    onboarded("anne@example.com")
    with jobs.publishing(None):  # Bruno's account is being set up: his job is pending
        services.start_onboarding(
            titulaire=make_staff("bruno@example.com"), profile={}, pharmacy_fields={"name": "P"}, idempotency_key="b"
        )
    free = [make_staff(f"free{i}@example.com").email for i in range(6)]
    problems, few = checked(["anne@example.com", "bruno@example.com", free[0]])
    assert "already has a Bimedoc account" in problems[0][0]
    assert "already being set up" in problems[1][0]
    assert problems[2] == []
    problems, many = checked(["anne@example.com", "bruno@example.com", *free])
    assert problems[2:] == [[]] * 6
    assert many == few  # the same queries for 3 existing titulaires as for 8
