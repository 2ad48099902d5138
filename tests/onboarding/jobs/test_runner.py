"""The Bimedoc job runner under faults: write-ahead audit, reconciliation of unknown outcomes, breaker waits, sweep.

The sandbox is reached over real HTTP (live server); the runner is driven
directly (``jobs.run``, the engine) so that each test decides what happens between
two runs: a fault lifted, a worker that died, a circuit that opened.
"""

from datetime import timedelta

import pytest
import requests
from django.core.exceptions import ValidationError
from django.utils import timezone

from onboarding import jobs
from onboarding.audit import audit_context, record_call
from onboarding.models import AccountStatus, CallOutcome, Job, JobStatus, OutboundCall
from providers import breaker
from providers import conf as outbound_conf
from providers.bimedoc import services
from providers.http import CallRecord, HttpTransport, OutcomeUnknown
from providers.sandbox import faults
from providers.sandbox.bimedoc.models import RemotePharmacy, RemoteUser
from tests.providers.bimedoc.conftest import make_staff

USER = services.STEP_CREATE_USER
PHARMACY = services.STEP_CREATE_PHARMACY


def start(email="claire@example.com", name="Pharmacie du Port") -> Job:
    user = make_staff(email)
    job = services.start_onboarding(titulaire=user, profile={}, pharmacy_fields={"name": name}, idempotency_key=email)
    job.refresh_from_db()
    return job


def run(job) -> Job:
    """Run the job once, as a task would; a wait is not an error here."""
    try:
        jobs.run(job.pk, task_id="t")
    except jobs.RetryLater:
        pass
    job.refresh_from_db()
    return job


def fault(**profile):
    faults.set_profile("bimedoc", faults.FaultProfile(**profile) if profile else None)


def fault_on_step(step, **profile):
    """Inside the block, set the fault profile only for the given step's call (the other steps run against a healthy sandbox)."""
    original = jobs.step_runner(services.KIND_ONBOARD, step)

    def runner(job):
        fault(**profile)
        try:
            original(job)
        finally:
            fault()

    return jobs.override_step(services.KIND_ONBOARD, step, runner)


# --- Write-ahead audit ---------------------------------------------------------------------


def test_a_call_is_on_record_before_it_is_sent_and_completed_after(db):
    record = CallRecord("bimedoc", "create_user", "POST", "/auth/user/", None, 0.0, CallOutcome.IN_FLIGHT, "{}")
    with audit_context(correlation_id="c1"):
        handle = record_call.start(record)
    row = OutboundCall.objects.get(pk=handle)
    # The process stops here (SIGKILL): the row says the call left, with an unknown outcome.
    assert row.outcome == CallOutcome.IN_FLIGHT and row.correlation_id == "c1"
    answer = CallRecord("bimedoc", "create_user", "POST", "/auth/user/", 201, 12.5, "success", "", '{"id": "1"}')
    record_call.finish(handle, answer)
    row.refresh_from_db()
    assert (row.outcome, row.status_code, row.duration_ms, row.request_excerpt) == ("success", 201, 12.5, "{}")
    # Completed once: a second completion does nothing, and the row stays append-only otherwise.
    record_call.finish(handle, CallRecord("bimedoc", "x", "POST", "/", 500, 1.0, "server_error"))
    row.refresh_from_db()
    assert row.outcome == "success" and row.status_code == 201
    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        row.delete()


class _DiesMidCall:
    """A session whose process is stopped while the request is on the wire."""

    def request(self, *args, **kwargs):
        raise KeyboardInterrupt


def test_a_process_stopped_mid_call_leaves_an_in_flight_record(db):
    transport = HttpTransport("bimedoc", "http://127.0.0.1:9", recorder=record_call, session=_DiesMidCall())
    with pytest.raises(KeyboardInterrupt):
        transport.send("create_user", "POST", "/auth/user/", json={"email": "a@example.com", "password": "s3cret"})
    row = OutboundCall.objects.get()
    assert row.outcome == CallOutcome.IN_FLIGHT and row.status_code is None
    assert "a@example.com" in row.request_excerpt and "s3cret" not in row.request_excerpt


def test_admin_shows_a_call_left_in_flight_as_unknown(admin_client, db):
    old = timezone.now() - timedelta(minutes=10)
    record = CallRecord("bimedoc", "create_pharmacy", "POST", "/auth/pharmacy/", None, 0.0, CallOutcome.IN_FLIGHT)
    OutboundCall.objects.filter(pk=record_call.start(record)).update(created_at=old)
    record_call.start(CallRecord("bimedoc", "create_user", "POST", "/auth/user/", None, 0.0, CallOutcome.IN_FLIGHT))
    page = admin_client.get("/admin/onboarding/outboundcall/").content.decode()
    assert "Outcome unknown (worker stopped)" in page and "In progress" in page


def test_every_call_of_a_job_is_on_record_and_none_left_in_flight(bimedoc_sandbox, sandbox_state):
    job = start()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert OutboundCall.objects.filter(job=job).count() == sandbox_state()["requests"] == 2
    assert not OutboundCall.objects.filter(outcome=CallOutcome.IN_FLIGHT).exists()


# --- Reconciliation of unknown outcomes ----------------------------------------------------


def test_user_created_but_unanswered_then_email_taken_needs_attention(
    bimedoc_sandbox, sandbox_state, unpublished, short_read_timeout
):
    job = start()
    fault(timeout_after_rate=1, stall_seconds=short_read_timeout)
    job = run(job)
    assert job.status == JobStatus.WAITING
    assert job.steps[USER]["outcome_unknown"] and job.steps[USER]["status"] == "waiting"
    assert sandbox_state()["users"] == 1  # it landed, the portal does not know
    fault()
    job = run(job)
    assert job.status == JobStatus.NEEDS_ATTENTION
    assert "email address is taken" in job.error and "enter its id" in job.error
    assert job.steps[USER]["status"] == "needs_attention"
    state = sandbox_state()
    assert (state["users"], state["duplicate_user_attempts"], state["pharmacies"]) == (1, 1, 0)
    account = services.user_account(job.user)
    assert account.status == AccountStatus.NEEDS_ATTENTION and not account.remote_id
    # The user cannot resend it from the job page (a create may have landed): only an administrator settles it.
    assert services.retry_job(job, by=job.user).status == JobStatus.NEEDS_ATTENTION


def test_user_create_that_did_not_land_is_sent_again_and_the_new_id_kept(
    bimedoc_sandbox, sandbox_state, unpublished, short_read_timeout
):
    job = start()
    fault(timeout_before_rate=1, stall_seconds=short_read_timeout)
    job = run(job)
    assert job.status == JobStatus.WAITING and job.steps[USER]["outcome_unknown"]
    assert sandbox_state()["users"] == 0
    fault()
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.steps[USER]["reconciled"] and "outcome_unknown" not in job.steps[USER]
    assert services.user_account(job.user).remote_id == str(RemoteUser.objects.get().pk)
    assert sandbox_state()["duplicate_user_attempts"] == 0


@pytest.mark.parametrize("kind", ["reset_rate", "malformed_rate", "timeout_after_rate"])
def test_pharmacy_create_with_unknown_outcome_needs_attention_and_is_never_sent_again(
    bimedoc_sandbox, sandbox_state, unpublished, short_read_timeout, kind
):
    job = start()
    with fault_on_step(PHARMACY, **{kind: 1, "stall_seconds": short_read_timeout}):
        job = run(job)
    assert job.status == JobStatus.NEEDS_ATTENTION
    assert "not sent again" in job.error and job.steps[PHARMACY]["status"] == "needs_attention"
    assert job.steps[USER]["status"] == "done"
    # A duplicate task and the job page's retry both leave it alone.
    jobs.run(job.pk, task_id="duplicate")
    services.retry_job(job, by=job.user)
    job.refresh_from_db()
    assert job.status == JobStatus.NEEDS_ATTENTION
    state = sandbox_state()
    # Exactly one pharmacy create reached Bimedoc (and it acted): user + pharmacy = 2 requests.
    assert (state["requests"], state["pharmacies"], state["pharmacies_created_twice"]) == (2, 1, 0)
    assert services.pharmacy_account(job.pharmacy).status == AccountStatus.NEEDS_ATTENTION


def test_sandbox_reset_drops_the_connection_after_acting(bimedoc_sandbox, sandbox_state, settings):
    fault(reset_rate=1)
    from providers.bimedoc.client import NewUser

    with pytest.raises(OutcomeUnknown):
        services.client().create_user(NewUser(email="reset@example.com"))
    assert sandbox_state()["users"] == 1
    assert OutboundCall.objects.get().outcome == "connection_error"


def test_a_worker_that_died_mid_pharmacy_call_leaves_it_to_an_administrator(
    bimedoc_sandbox, sandbox_state, unpublished, monkeypatch
):
    job = start()
    original = jobs.step_runner(services.KIND_ONBOARD, PHARMACY)

    def dies_on_the_wire(job):
        monkeypatch.setattr(services.client().transport, "session", _DiesMidCall())
        original(job)

    with jobs.override_step(services.KIND_ONBOARD, PHARMACY, dies_on_the_wire), pytest.raises(KeyboardInterrupt):
        jobs.run(job.pk, task_id="killed")
    monkeypatch.undo()
    services.close_clients()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.steps[PHARMACY]["status"] == "sending"
    assert OutboundCall.objects.get(job=job, operation="create_pharmacy").outcome == CallOutcome.IN_FLIGHT
    # Picked up again (the sweep, after the time limit): the mark says the outcome is unknown.
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    job = run(job)
    assert job.status == JobStatus.NEEDS_ATTENTION and job.steps[PHARMACY]["outcome_unknown"]
    assert sandbox_state()["requests"] == 1  # the user only: the pharmacy was not sent again


def test_a_worker_that_died_mid_user_call_sends_it_again(bimedoc_sandbox, sandbox_state, unpublished):
    job = start()
    # What a run that died mid-call leaves behind: the step marked as sent, no answer.
    job.steps[USER] = {"status": jobs.StepStatus.SENDING}
    Job.objects.filter(pk=job.pk).update(steps=job.steps)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, updated_at=timezone.now() - timedelta(hours=1))
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.steps[USER]["reconciled"]
    assert sandbox_state()["users"] == 1 and sandbox_state()["pharmacies"] == 1


# --- Retries and the circuit breaker -------------------------------------------------------


def test_retryable_errors_back_off_then_fail_with_the_reason(bimedoc_sandbox, sandbox_state, unpublished, settings):
    settings.BIMEDOC_MAX_RETRIES = 2
    settings.BIMEDOC_RETRY_DELAY = 4
    job = start()
    fault(error_rate=1)
    countdowns = []
    for _ in range(2):
        with pytest.raises(jobs.RetryLater) as later:
            jobs.run(job.pk)
        countdowns.append(later.value.countdown)
        job.refresh_from_db()
        assert job.status == JobStatus.WAITING and job.due_at > timezone.now()
        assert "unavailable (503)" in job.error
    assert 2 <= countdowns[0] <= 4 and 4 <= countdowns[1] <= 8  # doubles, with jitter
    job = run(job)
    assert job.status == JobStatus.FAILED
    assert "after 3 attempts" in job.error and "unavailable (503)" in job.error
    assert job.steps[USER]["status"] == "failed" and job.due_at is None
    assert sandbox_state()["users"] == 0 and sandbox_state()["requests"] == 3


def test_while_the_circuit_is_open_jobs_wait_without_using_their_retries(
    bimedoc_sandbox, sandbox_state, unpublished, settings, client
):
    settings.BIMEDOC_MAX_RETRIES = 1
    job = start()
    breaker.breaker_for("bimedoc").open()
    for _ in range(4):
        with pytest.raises(jobs.RetryLater) as later:
            jobs.run(job.pk)
        assert later.value.provider_unavailable
        assert outbound_conf.circuit_breaker.RESET_TIMEOUT - 1 <= later.value.countdown
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING and job.attempts == 4
    assert job.error.startswith("Bimedoc is unavailable; trying again at ")
    assert job.steps[USER].get("failures", 0) == 0
    assert sandbox_state()["requests"] == 0
    assert OutboundCall.objects.filter(job=job, outcome=CallOutcome.CIRCUIT_OPEN).count() == 4
    # The status page says so.
    client.force_login(job.user)
    page = client.get(f"/jobs/{job.public_id}/").content.decode()
    assert "Bimedoc is unavailable; trying again at" in page
    breaker.reset("bimedoc")
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED, job.error


def test_pharmacy_page_says_bimedoc_is_unavailable_and_disables_open(bimedoc_sandbox, client):
    job = start()
    assert job.status == JobStatus.SUCCEEDED
    client.force_login(job.user)
    page = client.get(job.pharmacy.get_absolute_url()).content.decode()
    assert 'id="open-bimedoc">' in page and "bimedoc-unavailable" not in page
    breaker.breaker_for("bimedoc").open()
    page = client.get(job.pharmacy.get_absolute_url()).content.decode()
    assert 'id="open-bimedoc" disabled' in page and "Bimedoc is unavailable at the moment" in page


# --- The sweep ------------------------------------------------------------------------------


def test_sweep_enqueues_a_pending_job_whose_task_was_never_published(bimedoc_sandbox, sandbox_state, settings):
    settings.JOB_SWEEP_GRACE = 60
    with jobs.publishing(None):
        job = start()
    assert job.status == JobStatus.PENDING
    assert jobs.sweep() == 0  # not overdue yet: its task may still be on its way
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert jobs.sweep() == 1  # tasks run in-process here
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert sandbox_state()["pharmacies"] == 1
    assert jobs.sweep() == 0


def test_sweep_takes_up_jobs_overdue_for_their_retry_or_stuck_running(bimedoc_sandbox, unpublished, settings):
    settings.JOB_SWEEP_GRACE = 0
    waiting, running, fresh = start("a@example.com"), start("b@example.com"), start("c@example.com")
    past = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=waiting.pk).update(status=JobStatus.WAITING, due_at=past)
    Job.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING, updated_at=past)
    Job.objects.filter(pk=fresh.pk).update(status=JobStatus.RUNNING)
    assert set(jobs.overdue().values_list("pk", flat=True)) == {waiting.pk, running.pk}
    assert jobs.sweep() == 2
    assert set(Job.objects.filter(status=JobStatus.SUCCEEDED).values_list("pk", flat=True)) == {waiting.pk, running.pk}
    assert Job.objects.get(pk=fresh.pk).status == JobStatus.RUNNING


def test_a_duplicate_task_does_nothing(bimedoc_sandbox, sandbox_state):
    job = start()
    assert jobs.run(job.pk, task_id="again") is None
    assert sandbox_state()["requests"] == 2


def test_the_sweep_is_scheduled_and_bimedoc_registered_its_kinds():
    from onboarding.conf import conf
    from portal.celery import app

    entry = app.conf.beat_schedule["sweep-jobs"]
    assert entry["task"] == "onboarding.tasks.sweep_jobs" and entry["schedule"] == conf.SWEEP_INTERVAL
    assert app.conf.beat_schedule["mcg-purge-expired-revocations"]["task"] == "providers.mcg.tasks.purge_expired_revocations"
    kind = jobs.kind_of("bimedoc.onboard_pharmacy")
    assert kind.provider == "bimedoc" and kind.step_names == (USER, PHARMACY)
    assert jobs.kind_of("bimedoc.add_colleague").step_names == (USER,)
    with pytest.raises(LookupError):
        jobs.kind_of("unknown.kind")


def test_sandbox_counts_requests_and_refuses_bad_fault_profiles(bimedoc_sandbox, sandbox_state):
    response = requests.put(f"{bimedoc_sandbox}/_faults", json={"reset_rate": 0.6, "error_rate": 0.6}, timeout=5)
    assert response.status_code == 400 and "add up" in response.json()["detail"]
    assert requests.put(f"{bimedoc_sandbox}/_faults", json={"reset_rate": 0.5}, timeout=5).json()["reset_rate"] == 0.5
    requests.delete(f"{bimedoc_sandbox}/_faults", timeout=5).raise_for_status()
    assert requests.get(f"{bimedoc_sandbox}/_faults", timeout=5).json()["reset_rate"] == 0
    requests.post(f"{bimedoc_sandbox}/auth/user/", json={}, timeout=5)
    assert sandbox_state()["requests"] == 1
    assert requests.delete(f"{bimedoc_sandbox}/_state", timeout=5).json()["requests"] == 0
    assert not RemotePharmacy.objects.exists()


def test_in_process_task_leaves_a_job_waiting_for_an_open_circuit_and_the_sweep_resumes_it(
    bimedoc_sandbox, sandbox_state, settings
):
    from onboarding.tasks import sweep_jobs

    settings.JOB_SWEEP_GRACE = 0
    breaker.breaker_for("bimedoc").open()
    job = start()  # the task runs in-process: no broker to wait on, so it returns with the job waiting
    assert job.status == JobStatus.WAITING and job.due_at > timezone.now()
    assert sweep_jobs() == 0  # not due yet
    breaker.reset("bimedoc")
    Job.objects.filter(pk=job.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert sweep_jobs() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert sandbox_state()["requests"] == 2
