"""The onboarding job on a real Celery worker (Redis), calling the sandbox over real HTTP."""

import time

import pytest
from django.urls import reverse

from onboarding.models import CallOutcome, Job, JobStatus
from providers.bimedoc import services
from providers.sandbox import faults

from .conftest import make_staff
from .test_onboarding import run_wizard

pytestmark = pytest.mark.worker


def wait_for(job, statuses, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still {job.status} after {timeout}s: {job.error}")


def test_wizard_job_runs_on_the_worker(celery_worker, client, bimedoc_sandbox, sandbox_state):
    staff = make_staff()
    client.force_login(staff)
    faults.set_profile("bimedoc", faults.FaultProfile(latency_ms=500))
    response = run_wizard(client)
    job = Job.objects.get()
    # The request returned before Bimedoc answered: the worker does the calls. The worker may
    # already have taken the job and written a call ahead of sending, but none can have come back.
    assert job.status in (JobStatus.PENDING, JobStatus.RUNNING)
    assert not job.calls.exclude(outcome=CallOutcome.IN_FLIGHT).exists()
    assert response["Location"] == reverse("onboarding-job", args=[job.public_id])
    wait_for(job, [JobStatus.SUCCEEDED, JobStatus.FAILED])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.task_id  # run by a worker task
    assert sandbox_state()["users"] == 1 and sandbox_state()["pharmacies"] == 1
    assert services.user_account(staff).is_active and services.user_account(staff).secrets == {}
    assert set(job.calls.values_list("task_id", flat=True)) == {job.task_id}


def test_worker_retries_a_transient_failure_and_finishes(celery_worker, client, bimedoc_sandbox, sandbox_state):
    """Bimedoc down at first: the task waits and retries (backoff), then finishes once Bimedoc is back."""
    staff = make_staff()
    client.force_login(staff)
    faults.set_profile("bimedoc", faults.FaultProfile(error_rate=1))
    run_wizard(client)
    job = Job.objects.get()
    wait_for(job, [JobStatus.WAITING])
    assert "unavailable" in job.error
    faults.set_profile("bimedoc", None)
    wait_for(job, [JobStatus.SUCCEEDED, JobStatus.FAILED])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts >= 2
    assert sandbox_state()["users"] == 1


def test_import_fans_out_over_the_worker_and_waits(celery_worker, bimedoc_sandbox, sandbox_state, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from .test_import_pharmacies import GOOD, HEADER

    path = tmp_path / "pharmacies.csv"
    path.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    out = StringIO()
    call_command("import_pharmacies", str(path), stdout=out, stderr=StringIO())
    assert "2 started" in out.getvalue() and "2 done" in out.getvalue()
    jobs = Job.objects.all()
    assert all(job.status == JobStatus.SUCCEEDED and job.task_id for job in jobs)
    assert sandbox_state()["pharmacies"] == 2
