"""Bimedoc's jobs, declared for the job engine (``onboarding.jobs``): set up a pharmacy, add a colleague.

A user is sent again when its outcome is unknown (a 201 proves the first try did
not land; "email taken" proves it did, and its id cannot be read back, so the
job needs attention); a pharmacy is never sent again (the job needs attention
at once).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onboarding import jobs
from onboarding import services as onboarding_services
from onboarding.models import AccountStatus, Job, Membership, Provider, ProviderAccount
from providers.http import AuthenticationError, Conflict, ProviderError, RetryPolicy

from . import labels, selectors, services
from .client import NewPharmacy, NewUser
from .conf import conf
from .selectors import (
    KIND_ADD_COLLEAGUE,
    KIND_ONBOARD,
    KIND_START_UPLOAD,
    STEP_CREATE_PHARMACY,
    STEP_CREATE_USER,
    STEP_START_ROWS,
)


def create_user(job: Job) -> None:
    """Create the job's user on Bimedoc (in the pharmacy, for a colleague) and keep its id."""
    user = job.user
    function = job.payload.get("function") or Membership.objects.get(user=user, pharmacy=job.pharmacy).function
    remote_pharmacy_id = None
    if job.kind == KIND_ADD_COLLEAGUE:
        remote = selectors.pharmacy_account(job.pharmacy)
        if remote is None or not remote.is_active:
            raise jobs.StepRefused(_("The pharmacy is not on Bimedoc yet: finish setting it up first."))
        remote_pharmacy_id = remote.remote_id
    person = selectors.job_person(job)
    created = services.client().create_user(
        NewUser(
            email=person["email"],
            first_name=person["first_name"],
            last_name=person["last_name"],
            mobile_number=person["mobile_number"],
            rpps_number=person["rpps_number"],
            gender=person["gender"],
            function=function,
            pharmacy=remote_pharmacy_id,
        )
    )
    changes = {"remote_id": created.id, "login": person["email"], "status_detail": ""}
    if job.kind == KIND_ONBOARD:
        # Kept (encrypted) only until the pharmacy exists.
        changes.update(secrets={"jwt": created.token}, status=AccountStatus.PENDING)
    else:
        changes.update(secrets={}, status=AccountStatus.ACTIVE, verified_at=timezone.now())
    with transaction.atomic():
        onboarding_services.save_account(Provider.BIMEDOC, user=user, **changes)
        jobs.checkpoint(job, STEP_CREATE_USER, remote_id=created.id)


def create_pharmacy(job: Job) -> None:
    """Create the pharmacy on Bimedoc with the titulaire's sign-up token; both accounts are then active."""
    account = onboarding_services.ensure_account(Provider.BIMEDOC, user=job.user, login=job.user.email)
    jwt = (account.secrets or {}).get("jwt")
    if not jwt:
        raise jobs.StepRefused(
            _("The Bimedoc sign-up token of the titulaire is missing; an administrator must finish the set-up.")
        )
    pharmacy = job.pharmacy
    try:
        created = services.client().create_pharmacy(
            jwt,
            NewPharmacy(
                name=pharmacy.name,
                phone_number=pharmacy.phone_number,
                street=pharmacy.street,
                city=pharmacy.city,
                postcode=pharmacy.postcode,
            ),
        )
    except AuthenticationError:
        # The JWT, not the partner credentials, was refused: the portal cannot get another one.
        raise jobs.StepRefused(
            _("Bimedoc refused the titulaire's sign-up token (it may have expired); an administrator must finish the set-up.")
        )
    with transaction.atomic():
        onboarding_services.save_account(
            Provider.BIMEDOC,
            pharmacy=pharmacy,
            remote_id=created.id,
            status=AccountStatus.ACTIVE,
            status_detail="",
            verified_at=timezone.now(),
        )
        onboarding_services.activate_account(account)
        jobs.checkpoint(job, STEP_CREATE_PHARMACY, remote_id=created.id)


def start_rows(job: Job) -> None:
    """Start the onboarding of every valid row of a bulk upload (each row once: run again, it starts what is left)."""
    from . import bulk_uploads

    started = bulk_uploads.start(job.payload["upload_id"])
    with transaction.atomic():
        jobs.checkpoint(job, STEP_START_ROWS, started=started)


def _user_unknown(job: Job, exc: ProviderError) -> str | None:
    """Sent again after an unknown outcome, the user is refused as taken: the first try created it."""
    if not isinstance(exc, Conflict):
        return None
    return _(
        "Bimedoc did not confirm the creation of %(email)s's user, and now answers that the email address is taken: "
        "the first try probably created it, but Bimedoc's API cannot give its id back. An administrator must look "
        "the user up on Bimedoc and enter its id to finish."
    ) % {"email": job.user.email}


def _pharmacy_unknown(job: Job) -> str:
    return _(
        "Bimedoc did not confirm the creation of the pharmacy. It is not sent again, so that it is not created "
        "twice: an administrator must check on Bimedoc and enter the pharmacy's id to finish."
    )


def retry_policy() -> RetryPolicy:
    return RetryPolicy(max_retries=conf.MAX_RETRIES, base_delay=conf.RETRY_DELAY, max_delay=conf.RETRY_MAX_DELAY)


def _settle():
    from .admin import SettleForm

    return jobs.Settle(
        form=SettleForm, resolve=services.resolve_job, label=gettext_lazy("Enter the ids found at Bimedoc and resume")
    )


def kinds() -> tuple[jobs.JobKind, ...]:
    """Bimedoc's kinds of job, as the engine runs them."""
    common = {
        "provider": Provider.BIMEDOC,
        "provider_label": "Bimedoc",
        "retry_policy": retry_policy,
        "failure_reason": labels.failure_reason,
        "settle": _settle(),
        "page": "onboarding-job",
    }
    return (
        jobs.JobKind(
            KIND_ONBOARD,
            labels.KIND_LABELS[KIND_ONBOARD],
            steps=(
                jobs.Step(
                    STEP_CREATE_USER,
                    gettext_lazy("Create the titulaire's Bimedoc user"),
                    create_user,
                    reconcile=_user_unknown,
                ),
                jobs.Step(
                    STEP_CREATE_PHARMACY,
                    gettext_lazy("Create the pharmacy on Bimedoc"),
                    create_pharmacy,
                    resend_when_unknown=False,
                    unknown_reason=_pharmacy_unknown,
                ),
            ),
            **common,
        ),
        jobs.JobKind(
            KIND_START_UPLOAD,
            gettext_lazy("Bulk onboarding: starting the rows"),
            steps=(jobs.Step(STEP_START_ROWS, gettext_lazy("Start the onboarding of every valid row"), start_rows),),
            # An administrator's job: no account follows it (each row's onboarding has its own).
            accounts=lambda job: ProviderAccount.objects.none(),
            provider=Provider.BIMEDOC,
            provider_label="Bimedoc",
            retry_policy=retry_policy,
            failure_reason=labels.failure_reason,
        ),
        jobs.JobKind(
            KIND_ADD_COLLEAGUE,
            labels.KIND_LABELS[KIND_ADD_COLLEAGUE],
            steps=(
                jobs.Step(
                    STEP_CREATE_USER,
                    gettext_lazy("Create the colleague's Bimedoc user"),
                    create_user,
                    reconcile=_user_unknown,
                ),
            ),
            **common,
        ),
    )
