"""A new provider plugs into the job engine: a package under tests/ declares a two-step job and registers it.

Nothing in onboarding/ knows it: the engine runs its steps, checkpoints them,
retries a transient failure with the kind's policy, stops for an administrator
when a step's outcome is unknown, and the sweep picks up a job never published.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from onboarding import jobs
from onboarding.models import AccountStatus, Job, JobStatus, ProviderAccount
from onboarding.services import register_staff
from providers.http import InvalidRequest, OutcomeUnknown, RetryableError
from tests.example_provider import jobs as example

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def example_provider(db):
    """The example provider, registered as its AppConfig.ready() does, and forgotten after the test."""
    example.remote.update(accounts={}, confirmed=[], calls=0)
    example.register()
    yield example
    example.unregister()


@pytest.fixture
def start(example_provider, django_capture_on_commit_callbacks):
    def start(email="ines@example.com") -> Job:
        user = register_staff(email=email, password=None, email_verified=True)
        with django_capture_on_commit_callbacks(execute=True):
            job = jobs.create(example.KIND, user=user, requested_by=user)
        job.refresh_from_db()
        return job

    return start


def test_the_domain_imports_no_provider():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "onboarding").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"providers\.(bimedoc|edin|mcg|mobilesaude)|example_provider", line)
    ]
    assert offenders == []


def test_a_two_step_job_of_a_new_provider_runs_to_the_end(start):
    job = start()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert [job.steps[name]["status"] for name in (example.OPEN, example.CONFIRM)] == [jobs.StepStatus.DONE] * 2
    remote_id = job.steps[example.OPEN]["remote_id"]
    assert example.remote["accounts"] == {remote_id: "ines@example.com"} and example.remote["confirmed"] == [remote_id]
    account = ProviderAccount.objects.get(provider=example.PROVIDER, user=job.user)
    assert account.status == AccountStatus.ACTIVE and account.remote_id == remote_id
    state = jobs.state(job)
    assert [(s["label"], s["status"]) for s in state["steps"]] == [("Open the account", "done"), ("Confirm the account", "done")]
    # A duplicate task finds nothing to claim: nothing is sent twice.
    assert jobs.run(job.pk, task_id="again") is None
    assert example.remote["calls"] == 2


@pytest.mark.parametrize("failures", [1, 3])
def test_a_transient_failure_is_retried_with_the_kinds_policy_then_fails_the_job(start, override_step, failures):
    """The kind allows 2 retries: one failure is retried after the checkpointed step, three fail the job."""
    tries = []

    def unavailable(job):
        tries.append(1)
        if len(tries) <= failures:
            raise RetryableError("Example is unavailable (503).", provider=example.PROVIDER)
        example.confirm_account(job)

    override_step(example.KIND, example.CONFIRM, unavailable)
    job = start()
    assert len(example.remote["accounts"]) == 1  # the first step was not repeated
    assert job.steps[example.CONFIRM]["failures"] == failures
    if failures == 1:
        assert job.status == JobStatus.SUCCEEDED, job.error
        return
    assert job.status == JobStatus.FAILED
    assert job.error == "Example did not answer properly after 3 attempts (Example is unavailable (503).). Try again later."
    assert job.steps[example.CONFIRM]["status"] == jobs.StepStatus.FAILED
    assert ProviderAccount.objects.get(user=job.user).status == AccountStatus.FAILED


def test_a_refusal_fails_the_job_and_keeps_the_field_errors(start, override_step):
    def refused(job):
        raise InvalidRequest("Example refused the email.", field_errors={"email": ["taken"]}, provider=example.PROVIDER)

    override_step(example.KIND, example.OPEN, refused)
    job = start()
    assert job.status == JobStatus.FAILED and job.error == "Example refused the email."
    assert job.payload["field_errors"] == {"email": ["taken"]}
    assert jobs.step_to_correct(job) == example.OPEN


def test_an_unknown_outcome_of_a_step_not_sent_again_needs_an_administrator(start, override_step, settings):
    original = jobs.step_runner(example.KIND, example.CONFIRM)

    def no_answer(job):
        raise OutcomeUnknown("Example: no answer in time", provider=example.PROVIDER)

    override_step(example.KIND, example.CONFIRM, no_answer)
    job = start()
    assert job.status == JobStatus.NEEDS_ATTENTION
    assert job.error == "Example did not say whether it confirmed the account; check there first."
    assert job.steps[example.CONFIRM]["status"] == jobs.StepStatus.NEEDS_ATTENTION
    assert ProviderAccount.objects.get(user=job.user).status == AccountStatus.NEEDS_ATTENTION
    # Resumed only once checked at the provider; then the step runs again.
    assert jobs.retry(job).status == JobStatus.NEEDS_ATTENTION
    assert jobs.unfinished_steps(job) == [example.CONFIRM]
    override_step(example.KIND, example.CONFIRM, original)
    jobs.retry(job, checked=True)
    assert jobs.run(job.pk).status == JobStatus.SUCCEEDED


def test_the_sweep_runs_a_job_whose_task_was_never_published(start, settings):
    settings.JOB_SWEEP_GRACE = 0
    with jobs.publishing(None):
        job = start()
    assert job.status == JobStatus.PENDING and example.remote["calls"] == 0
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert jobs.sweep() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error


def test_a_kind_nobody_registered_is_refused(example_provider):
    with pytest.raises(LookupError):
        jobs.create("nobody.kind")
    with pytest.raises(LookupError):
        jobs.override_step(example.KIND, "no_such_step", lambda job: None).__enter__()
