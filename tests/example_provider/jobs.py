"""The example provider's one kind of job: open an account at the (pretend) remote, then confirm it.

Everything a provider needs is here: its steps, each ending with the engine's
checkpoint in the transaction that stores what it produced, and the call that
registers the kind. The remote is a dict, so that the tests see every call.
"""

from django.db import transaction

from onboarding import jobs
from onboarding import services as onboarding_services
from onboarding.models import AccountStatus, Job
from providers.http import RetryPolicy

PROVIDER = "example"
KIND = "example.two_steps"
OPEN, CONFIRM = "open_account", "confirm_account"

remote = {"accounts": {}, "confirmed": [], "calls": 0}


def open_account(job: Job) -> None:
    remote["calls"] += 1
    remote_id = f"ex-{job.pk}"
    remote["accounts"][remote_id] = job.user.email
    with transaction.atomic():
        onboarding_services.save_account(PROVIDER, user=job.user, remote_id=remote_id, status=AccountStatus.PENDING)
        jobs.checkpoint(job, OPEN, remote_id=remote_id)


def confirm_account(job: Job) -> None:
    remote["calls"] += 1
    remote_id = job.steps[OPEN]["remote_id"]
    remote["confirmed"].append(remote_id)
    with transaction.atomic():
        account = onboarding_services.ensure_account(PROVIDER, user=job.user)
        onboarding_services.activate_account(account)
        jobs.checkpoint(job, CONFIRM)


TWO_STEPS = jobs.JobKind(
    KIND,
    "Example set-up",
    provider=PROVIDER,
    provider_label="Example",
    steps=(
        jobs.Step(OPEN, "Open the account", open_account),
        jobs.Step(
            CONFIRM,
            "Confirm the account",
            confirm_account,
            resend_when_unknown=False,
            unknown_reason=lambda job: "Example did not say whether it confirmed the account; check there first.",
        ),
    ),
    retry_policy=lambda: RetryPolicy(max_retries=2, base_delay=0, max_delay=0),
)


def register() -> None:
    jobs.register(TWO_STEPS)


def unregister() -> None:
    jobs.unregister(KIND)
