"""What the portal does with Bimedoc: onboard a pharmacy, add colleagues, open the app by SSO.

Onboarding and adding a colleague are jobs that run step by step in Celery;
each step's success is checkpointed in ``Job.steps`` in the same transaction
as the remote id it produced, so a retried job resumes after the last step
that succeeded and never repeats a create.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onboarding import invitations, jobs
from onboarding import services as onboarding_services
from onboarding.audit import audit_context, record_call
from onboarding.models import (
    AccountStatus,
    Function,
    Invitation,
    Job,
    JobStatus,
    Membership,
    Pharmacy,
    Provider,
    ProviderAccount,
    User,
)
from providers import breaker
from providers.http import (
    AuthenticationError,
    Conflict,
    InvalidRequest,
    InvalidResponse,
    OutcomeUnknown,
    ProviderError,
    ProviderUnavailable,
    RateLimiter,
    RetryableError,
    Throttled,
    build_session,
)

from .client import PROVIDER, BimedocClient, NewPharmacy, NewUser, sso_url

logger = logging.getLogger(__name__)

KIND_ONBOARD = "bimedoc.onboard_pharmacy"
KIND_ADD_COLLEAGUE = "bimedoc.add_colleague"
STEP_CREATE_USER = "create_user"
STEP_CREATE_PHARMACY = "create_pharmacy"
JOB_STEPS = {
    KIND_ONBOARD: (STEP_CREATE_USER, STEP_CREATE_PHARMACY),
    KIND_ADD_COLLEAGUE: (STEP_CREATE_USER,),
}
STEP_LABELS = {
    (KIND_ONBOARD, STEP_CREATE_USER): gettext_lazy("Create the titulaire's Bimedoc user"),
    (KIND_ONBOARD, STEP_CREATE_PHARMACY): gettext_lazy("Create the pharmacy on Bimedoc"),
    (KIND_ADD_COLLEAGUE, STEP_CREATE_USER): gettext_lazy("Create the colleague's Bimedoc user"),
}
KIND_LABELS = {
    KIND_ONBOARD: gettext_lazy("Pharmacy set-up on Bimedoc"),
    KIND_ADD_COLLEAGUE: gettext_lazy("Colleague's Bimedoc account"),
}
COLLEAGUE_FUNCTIONS = (Function.ADJOINT, Function.STAGIAIRE)


class StepRefused(ProviderError):
    """A step cannot run as things stand (not a provider answer); the job fails with this message."""


# --- The client ---------------------------------------------------------------------------


_clients: dict[tuple, BimedocClient] = {}
_clients_lock = threading.Lock()


def client() -> BimedocClient:
    """The process's Bimedoc client (one pooled session shared by its threads), built from settings."""
    key = (
        settings.BIMEDOC_BASE_URL,
        settings.BIMEDOC_PARTNER_ID,
        settings.BIMEDOC_API_KEY,
        tuple(settings.PROVIDER_TIMEOUT),
        settings.BIMEDOC_MAX_RPS,
        settings.BIMEDOC_RATE_LIMIT_MAX_WAIT,
    )
    cached = _clients.get(key)
    if cached is not None:
        return cached
    with _clients_lock:
        if key not in _clients:
            base_url, partner_id, api_key, timeout, max_rps, max_wait = key
            _clients[key] = BimedocClient(
                base_url=base_url,
                partner_id=partner_id,
                api_key=api_key,
                recorder=record_call,
                timeout=timeout,
                session=build_session(settings.PROVIDER_HTTP_POOL_SIZE),
                breaker=breaker.breaker_for(PROVIDER),
                rate_limiter=RateLimiter(
                    PROVIDER, max_rps=max_rps, storage_uri=settings.RATE_LIMIT_STORAGE_URL, max_wait=max_wait
                ),
            )
        return _clients[key]


def close_clients() -> None:
    """Close the pooled connections of the clients built so far (they are rebuilt on demand)."""
    with _clients_lock:
        while _clients:
            _key, cached = _clients.popitem()
            cached.transport.session.close()


# --- Accounts -----------------------------------------------------------------------------


def user_account(user: User) -> ProviderAccount | None:
    return ProviderAccount.objects.filter(provider=Provider.BIMEDOC, user=user).first()


def pharmacy_account(pharmacy: Pharmacy) -> ProviderAccount | None:
    return ProviderAccount.objects.filter(provider=Provider.BIMEDOC, pharmacy=pharmacy, user__isnull=True).first()


def _ensure_user_account(user: User) -> ProviderAccount:
    account, _created = ProviderAccount.objects.get_or_create(
        provider=Provider.BIMEDOC, user=user, defaults={"login": user.email}
    )
    return account


def _ensure_pharmacy_account(pharmacy: Pharmacy) -> ProviderAccount:
    account, _created = ProviderAccount.objects.get_or_create(provider=Provider.BIMEDOC, pharmacy=pharmacy, user=None)
    return account


def check_can_get_account(user: User) -> None:
    """Refuse (ValidationError) when the user already has, or is getting, a Bimedoc account: one per email."""
    account = user_account(user)
    if account is not None and account.remote_id:
        if account.is_active:
            message = _("%(email)s already has a Bimedoc account: Bimedoc allows one account per email address.")
        else:
            message = _("%(email)s already has a Bimedoc account from a set-up that did not finish: retry that one instead.")
        raise ValidationError(message % {"email": user.email})
    busy = Job.objects.filter(user=user, kind__in=JOB_STEPS, status__in=(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING))
    if busy.exists():
        raise ValidationError(_("A Bimedoc account for %(email)s is already being set up.") % {"email": user.email})


# --- Starting jobs ------------------------------------------------------------------------


def start_onboarding(*, titulaire: User, profile: dict, pharmacy_fields: dict, idempotency_key: str) -> Job:
    """Create the pharmacy with its titulaire and the job that puts both on Bimedoc (once per key)."""
    existing = Job.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    check_can_get_account(titulaire)
    try:
        with transaction.atomic():
            onboarding_services.update_profile(titulaire, **profile)
            pharmacy = onboarding_services.create_pharmacy(titulaire=titulaire, **pharmacy_fields)
            _ensure_pharmacy_account(pharmacy)
            _ensure_user_account(titulaire)
            job = Job.objects.create(
                kind=KIND_ONBOARD,
                pharmacy=pharmacy,
                user=titulaire,
                requested_by=titulaire,
                idempotency_key=idempotency_key,
                steps={name: {"status": "pending"} for name in JOB_STEPS[KIND_ONBOARD]},
                payload={
                    "function": Function.TITULAIRE,
                    "person": _person(titulaire, {k: getattr(titulaire, k) for k in PERSON_FIELDS}),
                },
            )
            _enqueue(job)
    except IntegrityError:
        # A concurrent submission with the same key won the race: answer with its job.
        existing = Job.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return job


def start_pharmacy_onboarding(*, pharmacy: Pharmacy, by: User) -> Job:
    """Put a pharmacy the portal already has on Bimedoc with its titulaire ``by``: the wizard's last step, once.

    The same job as the wizard's (create the titulaire's Bimedoc user, then the
    pharmacy); asking again answers with the job already started.
    """
    onboarding_services.require_member(by, pharmacy, functions=[Function.TITULAIRE])
    onboarding_services.require_verified_email(by)
    key = f"pharmacy:{pharmacy.public_id}"
    existing = Job.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    remote = pharmacy_account(pharmacy)
    if remote is not None and remote.is_active:
        raise ValidationError(_("The pharmacy is on Bimedoc already."))
    check_can_get_account(by)
    try:
        with transaction.atomic():
            _ensure_pharmacy_account(pharmacy)
            _ensure_user_account(by)
            job = Job.objects.create(
                kind=KIND_ONBOARD,
                pharmacy=pharmacy,
                user=by,
                requested_by=by,
                idempotency_key=key,
                steps={name: {"status": "pending"} for name in JOB_STEPS[KIND_ONBOARD]},
                payload={"function": Function.TITULAIRE, "person": _person(by, {k: getattr(by, k) for k in PERSON_FIELDS})},
            )
            _enqueue(job)
    except IntegrityError:
        existing = Job.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return job


def pharmacy_onboarding_refusal(pharmacy: Pharmacy, user: User) -> list[str] | None:
    """Why ``user`` cannot put the pharmacy on Bimedoc now ([] when they can; None when there is nothing to offer)."""
    if not Membership.objects.filter(user=user, pharmacy=pharmacy, function=Function.TITULAIRE).exists():
        return None
    remote = pharmacy_account(pharmacy)
    if remote is not None and (remote.is_active or remote.remote_id):
        return None
    if Job.objects.filter(kind=KIND_ONBOARD, pharmacy=pharmacy).exists():
        return None  # under way, or stopped: its job page says what to do
    try:
        check_can_get_account(user)
    except ValidationError as exc:
        return exc.messages
    return []


def add_colleague(*, pharmacy: Pharmacy, by: User, function: str, email: str, **profile) -> Invitation:
    """Invite a colleague (adjoint or stagiaire) to the pharmacy; their Bimedoc user is created once they accept.

    The answer is the same whether the email has a portal account or not.
    """
    onboarding_services.require_member(by, pharmacy, functions=[Function.TITULAIRE])
    onboarding_services.require_verified_email(by)
    if function not in COLLEAGUE_FUNCTIONS:
        raise ValidationError({"function": _("A colleague is an adjoint or a stagiaire.")})
    remote_pharmacy = pharmacy_account(pharmacy)
    if remote_pharmacy is None or not remote_pharmacy.is_active:
        raise ValidationError(_("The pharmacy is not on Bimedoc yet: finish setting it up first."))
    return invitations.invite(pharmacy=pharmacy, by=by, email=email, function=function, details=profile)


def start_colleague_job(*, pharmacy: Pharmacy, user: User, function: str, requested_by: User | None, details: dict) -> Job:
    """The job that creates a colleague's Bimedoc user in the pharmacy (run when they accept an invitation).

    ``details`` are the job's own request data (what Bimedoc is sent), never written to anyone's profile.
    """
    check_can_get_account(user)
    remote_pharmacy = pharmacy_account(pharmacy)
    if remote_pharmacy is None or not remote_pharmacy.is_active:
        raise ValidationError(_("The pharmacy is not on Bimedoc yet: finish setting it up first."))
    with transaction.atomic():
        _ensure_user_account(user)
        job = Job.objects.create(
            kind=KIND_ADD_COLLEAGUE,
            pharmacy=pharmacy,
            user=user,
            requested_by=requested_by,
            steps={STEP_CREATE_USER: {"status": "pending"}},
            payload={"function": function, "person": _person(user, details)},
        )
        _enqueue(job)
    return job


PERSON_FIELDS = ("first_name", "last_name", "mobile_number", "rpps_number", "gender")


def _person(user: User, details: dict) -> dict:
    """A job's request data about the person Bimedoc creates a user for."""
    return {"email": user.email, **{k: details.get(k, "") or "" for k in PERSON_FIELDS}}


def job_person(job: Job) -> dict:
    """The details the job sends Bimedoc about its user (jobs from before request data: the user's profile)."""
    person = job.payload.get("person")
    if person is None:
        person = _person(job.user, {k: getattr(job.user, k) for k in PERSON_FIELDS})
    return person


def _enqueue(job: Job) -> None:
    jobs.enqueue(job)


def retry_job(job: Job, *, by: User, checked: bool = False) -> Job:
    """Resume a failed job from the step that failed (steps that succeeded are not repeated).

    A job that needs attention (a create whose outcome is unknown) is resumed only
    by someone who ``checked`` at Bimedoc that the create did not land (an
    administrator): its steps are then sent again.
    """
    if not (checked or can_manage_job(by, job)):
        raise PermissionDenied
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        allowed = (JobStatus.FAILED, JobStatus.NEEDS_ATTENTION) if checked else (JobStatus.FAILED,)
        if locked.status not in allowed:
            return locked
        locked.status = JobStatus.PENDING
        locked.error = ""
        locked.finished_at = None
        locked.due_at = None
        locked.payload.pop("field_errors", None)
        for step in locked.steps.values():
            if step.get("status") != "done":
                step.update(status="pending", error="", failures=0)
                if checked:
                    step.pop("outcome_unknown", None)
        locked.save(update_fields=["status", "error", "finished_at", "due_at", "payload", "steps", "updated_at"])
        _accounts_of(locked).exclude(status=AccountStatus.ACTIVE).update(status=AccountStatus.PENDING, status_detail="")
        _enqueue(locked)
    return locked


def steps_to_resolve(job: Job) -> list[str]:
    """The steps an administrator may settle by hand (enter the remote id): those not done, if the job stopped."""
    if job.status not in (JobStatus.FAILED, JobStatus.NEEDS_ATTENTION):
        return []
    return [name for name in JOB_STEPS[job.kind] if job.steps.get(name, {}).get("status") != "done"]


def resolve_job(job: Job, *, by: User, remote_user_id: str = "", remote_pharmacy_id: str = "") -> Job:
    """Settle the job's unfinished steps with the ids an administrator found at Bimedoc, then resume it.

    Raises ValidationError when an id the job needs is missing. The steps given
    an id are checkpointed as done; the job then runs what is left (if anything).
    """
    remaining = steps_to_resolve(job)
    if not remaining:
        raise ValidationError(_("Only a job that failed or needs attention can be settled by hand."))
    remote_user_id, remote_pharmacy_id = remote_user_id.strip(), remote_pharmacy_id.strip()
    errors = {}
    if STEP_CREATE_USER in remaining and not remote_user_id:
        errors["remote_user_id"] = _("Enter the id of the user on Bimedoc.")
    if STEP_CREATE_PHARMACY in remaining and not remote_pharmacy_id:
        account = user_account(job.user)
        if STEP_CREATE_USER in remaining or not (account and (account.secrets or {}).get("jwt")):
            # Without the sign-up token Bimedoc gave with the user, the portal cannot create the pharmacy.
            errors["remote_pharmacy_id"] = _(
                "Enter the id of the pharmacy on Bimedoc: without the user's sign-up token the portal cannot create it."
            )
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if STEP_CREATE_USER in remaining:
            account = _ensure_user_account(locked.user)
            account.remote_id = remote_user_id
            account.login = locked.user.email
            account.save()
            locked.steps.setdefault(STEP_CREATE_USER, {}).update(
                status="done", error="", remote_id=remote_user_id, resolved_by=by.email, finished_at=now.isoformat()
            )
        if STEP_CREATE_PHARMACY in remaining and remote_pharmacy_id:
            remote = _ensure_pharmacy_account(locked.pharmacy)
            remote.remote_id = remote_pharmacy_id
            remote.status = AccountStatus.ACTIVE
            remote.status_detail = ""
            remote.verified_at = now
            remote.save()
            locked.steps.setdefault(STEP_CREATE_PHARMACY, {}).update(
                status="done", error="", remote_id=remote_pharmacy_id, resolved_by=by.email, finished_at=now.isoformat()
            )
        if all(locked.steps.get(n, {}).get("status") == "done" for n in JOB_STEPS[locked.kind]):
            # Every remote object exists: the user's account is active, its sign-up token no longer needed.
            account = _ensure_user_account(locked.user)
            account.secrets = {}
            account.status = AccountStatus.ACTIVE
            account.status_detail = ""
            account.verified_at = now
            account.save()
        locked.save(update_fields=["steps", "updated_at"])
        logger.info("Bimedoc job %s settled by %s", locked.pk, by.email)
    return retry_job(locked, by=by, checked=True)


def correct_and_retry(job: Job, *, by: User, user_fields: dict | None = None, pharmacy_fields: dict | None = None) -> Job:
    """Save corrected details (the ones Bimedoc refused) and resume the job.

    A person's details are corrected in the job's own request data only: their
    profile is theirs (or an admin's) to change.
    """
    if not can_manage_job(by, job):
        raise PermissionDenied
    with transaction.atomic():
        if user_fields:
            unknown = set(user_fields) - set(PERSON_FIELDS)
            if unknown:
                raise TypeError(f"Not a person field: {sorted(unknown)}")
            locked = Job.objects.select_for_update().get(pk=job.pk)
            locked.payload["person"] = {**job_person(locked), **user_fields}
            locked.save(update_fields=["payload", "updated_at"])
            job = locked
        if pharmacy_fields:
            onboarding_services.update_pharmacy(job.pharmacy, **pharmacy_fields)
        return retry_job(job, by=by)


def step_to_correct(job: Job) -> str | None:
    """The failed step whose details the user can correct (Bimedoc refused some fields), if any."""
    if job.status != JobStatus.FAILED or not job.payload.get("field_errors"):
        return None
    return next((n for n in JOB_STEPS[job.kind] if job.steps.get(n, {}).get("status") == "failed"), None)


# --- Who may see a job --------------------------------------------------------------------


def visible_job(public_id, user: User) -> Job:
    """The job, if the user asked for it, is its subject, or is a member of its pharmacy (else DoesNotExist)."""
    return (
        Job.objects.filter(kind__in=JOB_STEPS)
        .filter(Q(requested_by=user) | Q(user=user) | Q(pharmacy__memberships__user=user))
        .select_related("pharmacy", "user")
        .distinct()
        .get(public_id=public_id)
    )


def can_manage_job(user: User, job: Job) -> bool:
    if job.requested_by_id == user.pk:
        return True
    return Membership.objects.filter(user=user, pharmacy_id=job.pharmacy_id, function=Function.TITULAIRE).exists()


# --- Running jobs -------------------------------------------------------------------------
#
# A step that creates something at Bimedoc is marked ``sending`` (committed)
# before the request leaves. A definite answer replaces the mark. When the answer
# is unknown (no answer in time, connection dropped, unreadable body, or the mark
# still there when the job is picked up again because the worker died), the step
# is flagged ``outcome_unknown`` and reconciled instead of blindly sent again:
# a user is sent again (a 201 proves the first try did not land; "email taken"
# proves it did, and its id cannot be read back, so the job needs attention);
# a pharmacy is never sent again (the job needs attention at once).


class RetryLater(Exception):
    """The job waits; run it again in ``countdown`` seconds (``provider_unavailable``: the circuit is open)."""

    def __init__(self, countdown: float, *, provider_unavailable: bool = False):
        super().__init__(countdown)
        self.countdown = countdown
        self.provider_unavailable = provider_unavailable


def run_job(job_id: int, *, task_id: str = "") -> Job | None:
    """Run a job's remaining steps (claimed by this task); raise RetryLater when it must wait."""
    job = _claim(job_id, task_id)
    if job is None:
        return None
    with audit_context(job=job, user=job.user, pharmacy=job.pharmacy, task_id=task_id, attempt=job.attempts):
        for name in JOB_STEPS[job.kind]:
            step = job.steps.setdefault(name, {})
            if step.get("status") == "done":
                continue
            if step.get("status") == "sending":
                # The run that sent this step stopped before it knew the answer.
                step["outcome_unknown"] = True
            if step.get("outcome_unknown") and name == STEP_CREATE_PHARMACY:
                return _needs_attention(job, name, _pharmacy_unknown_reason())
            # Committed before the request leaves: a run that dies mid-call leaves this mark behind.
            _set_step(job, name, status="sending", error="", started_at=timezone.now().isoformat())
            try:
                STEP_RUNNERS[name](job)
            except Throttled as exc:
                _wait_for_pace(job, name, exc)
            except ProviderUnavailable:
                _wait_for_provider(job, name)
            except (OutcomeUnknown, InvalidResponse) as exc:
                if name == STEP_CREATE_PHARMACY:
                    return _needs_attention(job, name, _pharmacy_unknown_reason())
                step["outcome_unknown"] = True
                if (failed := _retry_later(job, name, exc)) is not None:
                    return failed
            except RetryableError as exc:
                # A definite "not now" (5xx, connection refused): nothing was created.
                if (failed := _retry_later(job, name, exc)) is not None:
                    return failed
            except Conflict as exc:
                if step.get("outcome_unknown"):
                    return _needs_attention(job, name, _user_unknown_reason(job.user))
                return _fail(job, name, exc)
            except ProviderError as exc:
                return _fail(job, name, exc)
        if job.status != JobStatus.SUCCEEDED:  # every step was done already (settled by hand)
            job.status = JobStatus.SUCCEEDED
            job.error = ""
            job.due_at = None
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "error", "due_at", "finished_at", "updated_at"])
    return job


def _user_unknown_reason(user: User) -> str:
    return _(
        "Bimedoc did not confirm the creation of %(email)s's user, and now answers that the email address is taken: "
        "the first try probably created it, but Bimedoc's API cannot give its id back. An administrator must look "
        "the user up on Bimedoc and enter its id to finish."
    ) % {"email": user.email}


def _pharmacy_unknown_reason() -> str:
    return _(
        "Bimedoc did not confirm the creation of the pharmacy. It is not sent again, so that it is not created "
        "twice: an administrator must check on Bimedoc and enter the pharmacy's id to finish."
    )


def _retry_later(job: Job, name: str, exc: RetryableError) -> Job | None:
    """Count a failed try of the step; wait with backoff and jitter, or fail the job past the cap."""
    step = job.steps[name]
    step["failures"] = step.get("failures", 0) + 1
    if step["failures"] > settings.BIMEDOC_MAX_RETRIES:
        reason = _("Bimedoc did not answer properly after %(n)s attempts (%(error)s). Try again later.") % {
            "n": step["failures"],
            "error": exc.message,
        }
        return _fail(job, name, StepRefused(reason))
    delay = min(settings.BIMEDOC_RETRY_MAX_DELAY, settings.BIMEDOC_RETRY_DELAY * 2 ** (step["failures"] - 1))
    countdown = random.uniform(delay / 2, delay)
    _wait(job, name, exc.message, countdown)
    raise RetryLater(countdown)


def _wait_for_provider(job: Job, name: str) -> None:
    """The circuit is open: wait until it lets a trial call through, without using up the retry budget."""
    countdown = breaker.seconds_until_retry(PROVIDER) + random.uniform(0, max(1.0, settings.BIMEDOC_RETRY_DELAY))
    at = timezone.localtime(timezone.now() + timezone.timedelta(seconds=countdown))
    reason = _("Bimedoc is unavailable; trying again at %(time)s.") % {"time": at.strftime("%H:%M:%S")}
    _wait(job, name, reason, countdown)
    raise RetryLater(countdown, provider_unavailable=True)


def _wait_for_pace(job: Job, name: str, exc: Throttled) -> None:
    """Bimedoc asked the portal to slow down, or the shared pace has no slot now: wait, without using up retries."""
    countdown = exc.retry_after + random.uniform(0, 1.0)
    at = timezone.localtime(timezone.now() + timezone.timedelta(seconds=countdown))
    reason = _("Bimedoc asked the portal to slow down; trying again at %(time)s.") % {"time": at.strftime("%H:%M:%S")}
    _wait(job, name, reason, countdown)
    raise RetryLater(countdown, provider_unavailable=True)


def _wait(job: Job, name: str, reason: str, countdown: float) -> None:
    now = timezone.now()
    job.steps[name].update(status="waiting", error=reason, at=now.isoformat())
    Job.objects.filter(pk=job.pk).update(
        steps=job.steps,
        status=JobStatus.WAITING,
        error=reason,
        due_at=now + timezone.timedelta(seconds=countdown),
        updated_at=now,
    )


def _needs_attention(job: Job, name: str, reason: str) -> Job:
    now = timezone.now()
    with transaction.atomic():
        job.steps[name].update(status="needs_attention", error=reason, at=now.isoformat())
        job.status = JobStatus.NEEDS_ATTENTION
        job.error = reason
        job.due_at = None
        job.finished_at = now
        job.save(update_fields=["steps", "status", "error", "due_at", "finished_at", "updated_at"])
        _accounts_of(job).exclude(status=AccountStatus.ACTIVE).update(
            status=AccountStatus.NEEDS_ATTENTION, status_detail=reason[:1000]
        )
    logger.warning("Bimedoc job %s needs attention at %s (outcome unknown)", job.pk, name)
    return job


def _accounts_of(job: Job):
    return ProviderAccount.objects.filter(provider=Provider.BIMEDOC).filter(
        Q(user=job.user) | Q(pharmacy=job.pharmacy, user__isnull=True)
    )


def _claim(job_id: int, task_id: str) -> Job | None:
    """Mark the job running for this task, unless it is finished or another task holds it."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=settings.JOB_RUNNING_STALE_AFTER)
    claimed = (
        Job.objects.filter(pk=job_id, kind__in=JOB_STEPS)
        .filter(Q(status__in=(JobStatus.PENDING, JobStatus.WAITING)) | Q(status=JobStatus.RUNNING, updated_at__lt=stale))
        .update(status=JobStatus.RUNNING, task_id=task_id or "", attempts=F("attempts") + 1, updated_at=now)
    )
    if not claimed:
        return None
    return Job.objects.select_related("user", "pharmacy").get(pk=job_id)


def _set_step(job: Job, name: str, **changes) -> None:
    job.steps.setdefault(name, {}).update(changes, at=timezone.now().isoformat())
    Job.objects.filter(pk=job.pk).update(steps=job.steps, updated_at=timezone.now())


def _checkpoint(job: Job, name: str, **result) -> None:
    """Record a step's success (call inside the transaction that stores what it produced); the last one ends the job."""
    now = timezone.now()
    step = job.steps.setdefault(name, {})
    if step.pop("outcome_unknown", False):
        step["reconciled"] = True
    step.update(status="done", error="", finished_at=now.isoformat(), **result)
    changes = {"steps": job.steps, "updated_at": now}
    if all(job.steps.get(n, {}).get("status") == "done" for n in JOB_STEPS[job.kind]):
        job.status, job.error, job.due_at, job.finished_at = JobStatus.SUCCEEDED, "", None, now
        changes.update(status=job.status, error="", due_at=None, finished_at=now)
    Job.objects.filter(pk=job.pk).update(**changes)


def _fail(job: Job, step: str | None, exc: ProviderError) -> Job:
    reason = failure_reason(exc)
    with transaction.atomic():
        if step:
            job.steps.setdefault(step, {}).update(status="failed", error=reason, at=timezone.now().isoformat())
        if isinstance(exc, InvalidRequest) and exc.field_errors:
            job.payload["field_errors"] = exc.field_errors
        job.status = JobStatus.FAILED
        job.error = reason
        job.due_at = None
        job.finished_at = timezone.now()
        job.save(update_fields=["steps", "payload", "status", "error", "due_at", "finished_at", "updated_at"])
        _accounts_of(job).exclude(status=AccountStatus.ACTIVE).update(status=AccountStatus.FAILED, status_detail=reason[:1000])
    logger.info("Bimedoc job %s failed at %s: %s", job.pk, step, reason)
    return job


def failure_reason(exc: ProviderError) -> str:
    """A sentence for the person who started the job: what went wrong and what to do."""
    if isinstance(exc, Conflict):
        return _("Bimedoc already has a user with this email address.")
    if isinstance(exc, InvalidRequest):
        details = "; ".join(f"{FIELD_LABELS.get(k, k)}: {' '.join(v)}" for k, v in exc.field_errors.items())
        return _("Bimedoc refused some details: %(details)s") % {"details": details or exc.message}
    if isinstance(exc, AuthenticationError):
        return _("Bimedoc refused the portal's credentials; an administrator must check the Bimedoc settings.")
    if isinstance(exc, Throttled):
        return _("Bimedoc asked the portal to slow down; try again in a few seconds.")
    if isinstance(exc, RetryableError):
        return _("Bimedoc did not answer properly (%(error)s).") % {"error": exc.message}
    return exc.message


FIELD_LABELS = {
    "email": gettext_lazy("Email address"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "mobile_number": gettext_lazy("Mobile number"),
    "rpps_number": gettext_lazy("RPPS number"),
    "gender": gettext_lazy("Gender"),
    "function": gettext_lazy("Function"),
    "pharmacy": gettext_lazy("Pharmacy"),
    "name": gettext_lazy("Pharmacy name"),
    "phone_number": gettext_lazy("Phone number"),
    "street": gettext_lazy("Street and number"),
    "city": gettext_lazy("City"),
    "postcode": gettext_lazy("Postcode"),
}


def _create_user_step(job: Job) -> None:
    user = job.user
    function = job.payload.get("function") or Membership.objects.get(user=user, pharmacy=job.pharmacy).function
    remote_pharmacy_id = None
    if job.kind == KIND_ADD_COLLEAGUE:
        remote = pharmacy_account(job.pharmacy)
        if remote is None or not remote.is_active:
            raise StepRefused(_("The pharmacy is not on Bimedoc yet: finish setting it up first."))
        remote_pharmacy_id = remote.remote_id
    person = job_person(job)
    created = client().create_user(
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
        _update_account(ProviderAccount.objects.filter(provider=Provider.BIMEDOC, user=user), user=user, **changes)
        _checkpoint(job, STEP_CREATE_USER, remote_id=created.id)


def _create_pharmacy_step(job: Job) -> None:
    account = _ensure_user_account(job.user)
    jwt = (account.secrets or {}).get("jwt")
    if not jwt:
        raise StepRefused(_("The Bimedoc sign-up token of the titulaire is missing; an administrator must finish the set-up."))
    pharmacy = job.pharmacy
    try:
        created = client().create_pharmacy(
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
        raise StepRefused(
            _("Bimedoc refused the titulaire's sign-up token (it may have expired); an administrator must finish the set-up.")
        )
    now = timezone.now()
    with transaction.atomic():
        _update_account(
            ProviderAccount.objects.filter(provider=Provider.BIMEDOC, pharmacy=pharmacy, user__isnull=True),
            pharmacy=pharmacy,
            remote_id=created.id,
            status=AccountStatus.ACTIVE,
            status_detail="",
            verified_at=now,
        )
        account.secrets = {}
        account.status = AccountStatus.ACTIVE
        account.status_detail = ""
        account.verified_at = now
        account.save()
        _checkpoint(job, STEP_CREATE_PHARMACY, remote_id=created.id)


def _update_account(accounts, **fields) -> None:
    """Save a step's result on its account in one statement (the account exists since the job started)."""
    lookup = {k: fields.pop(k) for k in ("user", "pharmacy") if k in fields}
    if not accounts.update(**fields, updated_at=timezone.now()):
        ProviderAccount.objects.create(provider=Provider.BIMEDOC, **lookup, **fields)


STEP_RUNNERS: dict[str, Callable[[Job], None]] = {
    STEP_CREATE_USER: _create_user_step,
    STEP_CREATE_PHARMACY: _create_pharmacy_step,
}


# --- SSO ----------------------------------------------------------------------------------


def is_linked(user: User, pharmacy: Pharmacy) -> bool:
    """Whether the user's Bimedoc user was created in this pharmacy (a Bimedoc user has one pharmacy)."""
    return Job.objects.filter(kind__in=JOB_STEPS, user=user, pharmacy=pharmacy, status=JobStatus.SUCCEEDED).exists()


class NotReady(Exception):
    """The user cannot open Bimedoc yet; the message says why."""


def open_bimedoc(*, user: User, pharmacy: Pharmacy) -> str:
    """The URL that signs the user in to Bimedoc for this pharmacy (asks Bimedoc for an SSO token now).

    Raises PermissionDenied for non-members, NotReady when the accounts are not active, ProviderError on failure.
    """
    onboarding_services.require_member(user, pharmacy)
    account = user_account(user)
    remote = pharmacy_account(pharmacy)
    if remote is None or not remote.is_active:
        raise NotReady(_("This pharmacy is not on Bimedoc yet."))
    if account is None or not account.is_active:
        raise NotReady(_("You do not have an active Bimedoc account yet."))
    if not is_linked(user, pharmacy):
        raise NotReady(_("Your Bimedoc account belongs to another pharmacy."))
    with audit_context(user=user, pharmacy=pharmacy):
        token = client().create_sso_token(account.remote_id)
    return sso_url(settings.BIMEDOC_APP_URL, remote.remote_id, token)
