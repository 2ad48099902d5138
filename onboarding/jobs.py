"""The job engine: work that runs in the background step by step, each step checkpointed.

A provider declares its kinds of job (``JobKind``: its steps, how to word a
failure, which accounts follow the job) and registers them from its
``AppConfig.ready()``; the engine runs them and nothing here knows a provider.

Each step's success is checkpointed in ``Job.steps`` in the same transaction
as what it produced (``checkpoint``), so a retried job resumes after the last
step that succeeded and never repeats a create. A step that creates something
remotely is marked ``sending`` (committed) before the request leaves. A
definite answer replaces the mark. When the answer is unknown (no answer in
time, connection dropped, unreadable body, or the mark still there when the
job is picked up again because the worker died), the step's outcome is
flagged unknown and reconciled rather than blindly sent again: a step declared
``resend_when_unknown`` is sent again and its ``reconcile`` hook reads a
refusal that proves the first try landed; any other step stops the job, which
then needs an administrator's attention.

Transient failures are retried with the kind's ``RetryPolicy`` (backoff with
jitter); an open circuit or a request to slow down makes the job wait without
using up its retries. The sweep re-enqueues jobs whose task was lost: never
published (a crash between the commit and the publish), held by a worker that
died, or overdue for their retry.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from providers import breaker
from providers.http import (
    InvalidRequest,
    InvalidResponse,
    OutcomeUnknown,
    ProviderError,
    ProviderUnavailable,
    RetryableError,
    RetryPolicy,
    Throttled,
)

from .audit import audit_context
from .conf import conf
from .models import AccountStatus, Job, JobStatus, ProviderAccount

logger = logging.getLogger(__name__)


class StepStatus(StrEnum):
    """Where one step of a job stands (kept in ``Job.steps[name]["status"]``)."""

    PENDING = "pending"
    RUNNING = "running"  # shown only: the first step not done of a running job
    SENDING = "sending"  # committed before the request leaves: still there later, the outcome is unknown
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"


class StepRefused(ProviderError):
    """A step cannot run as things stand (not a provider answer); the job fails with this message."""


class RetryLater(Exception):
    """The job waits; run it again in ``countdown`` seconds (``provider_unavailable``: no retry was used up)."""

    def __init__(self, countdown: float, *, provider_unavailable: bool = False):
        super().__init__(countdown)
        self.countdown = countdown
        self.provider_unavailable = provider_unavailable


@dataclass(frozen=True)
class Step:
    """One step of a kind of job: what it does (``run(job)``, which ends with ``checkpoint``) and how it reconciles.

    ``resend_when_unknown``: a step whose outcome is unknown is sent again (False:
    the job needs attention at once, with ``unknown_reason(job)``). ``reconcile(job,
    error)`` reads a refusal that comes after an unknown outcome (e.g. "already
    exists": the first try landed) and returns why the job needs attention, or
    None to fail it as usual.
    """

    name: str
    label: Any
    run: Callable[[Job], None]
    resend_when_unknown: bool = True
    unknown_reason: Callable[[Job], str] | None = None
    reconcile: Callable[[Job, ProviderError], str | None] | None = None


@dataclass(frozen=True)
class Settle:
    """How an administrator settles a stopped job by hand: the form asking what they found, and the service."""

    form: type
    resolve: Callable[..., Job]
    label: Any = gettext_lazy("Enter the ids found at the provider and resume")


@dataclass(frozen=True)
class JobKind:
    """A kind of job a provider runs: its steps, the accounts that follow the job, and its wording."""

    name: str
    label: Any
    provider: str
    provider_label: str
    steps: tuple[Step, ...]
    retry_policy: Callable[[], RetryPolicy]
    # The provider accounts the job sets up, whose status follows the job's (failed, needs attention).
    # By default: the job's user's and its pharmacy's own accounts at the provider.
    accounts: Callable[[Job], QuerySet[ProviderAccount]] | None = None
    # A sentence for the person who started the job, from the provider's error.
    failure_reason: Callable[[ProviderError], str] = lambda exc: exc.message
    settle: Settle | None = None
    # The URL name of the page that follows a job of this kind (takes its public_id).
    page: str = ""

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)

    def accounts_of(self, job: Job) -> QuerySet[ProviderAccount]:
        if self.accounts is not None:
            return self.accounts(job)
        return ProviderAccount.objects.filter(provider=self.provider).filter(
            Q(user_id=job.user_id, user__isnull=False) | Q(pharmacy_id=job.pharmacy_id, user__isnull=True)
        )

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise LookupError(f"Jobs of kind {self.name!r} have no step {name!r}")


_kinds: dict[str, JobKind] = {}
_overrides: dict[tuple[str, str], Callable[[Job], None]] = {}


def register(*kinds: JobKind) -> None:
    """Make kinds of job known to the engine (a provider calls it from its ``AppConfig.ready()``)."""
    for kind in kinds:
        _kinds[kind.name] = kind


def unregister(name: str) -> None:
    _kinds.pop(name, None)


def kinds() -> dict[str, JobKind]:
    """The registered kinds of job, by name."""
    return dict(_kinds)


def kind_of(job_or_name: Job | str) -> JobKind:
    """The kind of a job (or of a kind's name); LookupError when no provider registered it."""
    name = job_or_name if isinstance(job_or_name, str) else job_or_name.kind
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"No runner for jobs of kind {name!r}") from None


def page_url(job: Job) -> str:
    """The page that follows the job, when its kind has one ("" otherwise)."""
    declared = _kinds.get(job.kind)
    if declared is None or not declared.page:
        return ""
    return reverse(declared.page, args=[job.public_id])


def step_runner(kind: str, step: str) -> Callable[[Job], None]:
    """What runs a step now (its declared ``run``, or what ``override_step`` put in its place)."""
    return _overrides.get((kind, step)) or kind_of(kind).step(step).run


@contextmanager
def override_step(kind: str, step: str, run: Callable[[Job], None]) -> Iterator[None]:
    """Run ``run`` in place of a step, inside the block (tests inject faults through it)."""
    kind_of(kind).step(step)
    previous = _overrides.get((kind, step))
    _overrides[(kind, step)] = run
    try:
        yield
    finally:
        if previous is None:
            _overrides.pop((kind, step), None)
        else:
            _overrides[(kind, step)] = previous


# --- Publishing --------------------------------------------------------------------------


def _publish(job: Job, *, on_commit: bool = True) -> None:
    from .tasks import run_job

    if on_commit:
        run_job.delay_on_commit(job.pk)
    else:
        run_job.delay(job.pk)


_publisher: Callable[..., None] = _publish


def enqueue(job: Job, *, on_commit: bool = True) -> None:
    """Send the job to the worker, after the current transaction commits (or now)."""
    kind_of(job)
    _publisher(job, on_commit=on_commit)


@contextmanager
def publishing(publish: Callable[[Job], None] | None) -> Iterator[None]:
    """Inside the block, jobs are handed to ``publish(job)`` instead of the worker (None: not sent at all).

    The sweep is what finds a job whose task was never published; tests and the
    soak use this to lose some on purpose.
    """
    global _publisher
    previous = _publisher
    _publisher = (lambda job, on_commit=True: None) if publish is None else (lambda job, on_commit=True: publish(job))
    try:
        yield
    finally:
        _publisher = previous


def create(kind: str, **fields) -> Job:
    """Create a job of a registered kind with every step pending, and send it once the transaction commits."""
    declared = kind_of(kind)
    job = Job.objects.create(
        kind=declared.name, steps={name: {"status": StepStatus.PENDING} for name in declared.step_names}, **fields
    )
    enqueue(job)
    return job


def busy(**filters) -> QuerySet[Job]:
    """Jobs of the registered kinds matching ``filters`` that have not stopped yet."""
    return Job.objects.filter(**filters).filter(status__in=(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING))


def retry(job: Job, *, by=None, checked: bool = False) -> Job:
    """Resume a failed job from the step that failed (steps that succeeded are not repeated).

    A job that needs attention (a create whose outcome is unknown) is resumed only
    when ``checked``, by someone who made sure at the provider that the create did
    not land (an administrator): its steps are then sent again. Permission is the
    caller's to check.
    """
    declared = kind_of(job)
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
            if step.get("status") != StepStatus.DONE:
                step.update(status=StepStatus.PENDING, error="", failures=0)
                if checked:
                    step.pop("outcome_unknown", None)
        locked.save(update_fields=["status", "error", "finished_at", "due_at", "payload", "steps", "updated_at"])
        declared.accounts_of(locked).exclude(status=AccountStatus.ACTIVE).update(
            status=AccountStatus.PENDING, status_detail=""
        )
        enqueue(locked)
    return locked


def unfinished_steps(job: Job) -> list[str]:
    """The steps an administrator may settle by hand: those not done, once the job stopped (failed, needs attention)."""
    if job.status not in (JobStatus.FAILED, JobStatus.NEEDS_ATTENTION):
        return []
    return [name for name in kind_of(job).step_names if job.steps.get(name, {}).get("status") != StepStatus.DONE]


def settle_step(job: Job, name: str, *, by, **result) -> None:
    """Checkpoint a step as done with what an administrator found at the provider (inside their transaction)."""
    job.steps.setdefault(name, {}).update(
        status=StepStatus.DONE, error="", resolved_by=by.email, finished_at=timezone.now().isoformat(), **result
    )
    Job.objects.filter(pk=job.pk).update(steps=job.steps, updated_at=timezone.now())


def all_done(job: Job) -> bool:
    return all(job.steps.get(n, {}).get("status") == StepStatus.DONE for n in kind_of(job).step_names)


def step_to_correct(job: Job) -> str | None:
    """The failed step whose details the person can correct (the provider refused some fields), if any."""
    if job.status != JobStatus.FAILED or not job.payload.get("field_errors"):
        return None
    return next((n for n in kind_of(job).step_names if job.steps.get(n, {}).get("status") == StepStatus.FAILED), None)


def set_payload(job: Job, **changes) -> Job:
    """Save changes to a job's own request data."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        locked.payload.update(changes)
        locked.save(update_fields=["payload", "updated_at"])
    return locked


# --- Running ------------------------------------------------------------------------------


def run(job_id: int, *, task_id: str = "") -> Job | None:
    """Run a job's remaining steps (claimed by this task); raise RetryLater when it must wait."""
    job = _claim(job_id, task_id)
    if job is None:
        return None
    declared = kind_of(job)
    with audit_context(job=job, user=job.user, pharmacy=job.pharmacy, task_id=task_id, attempt=job.attempts):
        for step in declared.steps:
            name = step.name
            state = job.steps.setdefault(name, {})
            if state.get("status") == StepStatus.DONE:
                continue
            if state.get("status") == StepStatus.SENDING:
                # The run that sent this step stopped before it knew the answer.
                state["outcome_unknown"] = True
            if state.get("outcome_unknown") and not step.resend_when_unknown:
                return _needs_attention(job, name, _unknown_reason(step, job))
            # Committed before the request leaves: a run that dies mid-call leaves this mark behind.
            _set_step(job, name, status=StepStatus.SENDING, error="", started_at=timezone.now().isoformat())
            try:
                step_runner(job.kind, name)(job)
            except Throttled as exc:
                _wait_for_pace(job, name, exc)
            except ProviderUnavailable:
                _wait_for_provider(job, name)
            except (OutcomeUnknown, InvalidResponse) as exc:
                if not step.resend_when_unknown:
                    return _needs_attention(job, name, _unknown_reason(step, job))
                state["outcome_unknown"] = True
                if (failed := _retry_later(job, name, exc)) is not None:
                    return failed
            except RetryableError as exc:
                # A definite "not now" (5xx, connection refused): nothing was created.
                if (failed := _retry_later(job, name, exc)) is not None:
                    return failed
            except ProviderError as exc:
                if state.get("outcome_unknown") and step.reconcile and (reason := step.reconcile(job, exc)):
                    return _needs_attention(job, name, reason)
                return _fail(job, name, exc)
        if job.status != JobStatus.SUCCEEDED:  # every step was done already (settled by hand)
            job.status = JobStatus.SUCCEEDED
            job.error = ""
            job.due_at = None
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "error", "due_at", "finished_at", "updated_at"])
    return job


def checkpoint(job: Job, name: str, **result) -> None:
    """Record a step's success (call inside the transaction that stores what it produced); the last one ends the job."""
    now = timezone.now()
    step = job.steps.setdefault(name, {})
    if step.pop("outcome_unknown", False):
        step["reconciled"] = True
    step.update(status=StepStatus.DONE, error="", finished_at=now.isoformat(), **result)
    changes = {"steps": job.steps, "updated_at": now}
    if all_done(job):
        job.status, job.error, job.due_at, job.finished_at = JobStatus.SUCCEEDED, "", None, now
        changes.update(status=job.status, error="", due_at=None, finished_at=now)
    Job.objects.filter(pk=job.pk).update(**changes)


def _unknown_reason(step: Step, job: Job) -> str:
    if step.unknown_reason is not None:
        return step.unknown_reason(job)
    return _("The provider did not confirm this step; an administrator must check before it is sent again.")


def _retry_later(job: Job, name: str, exc: RetryableError) -> Job | None:
    """Count a failed try of the step; wait with backoff and jitter, or fail the job past the cap."""
    declared = kind_of(job)
    policy = declared.retry_policy()
    step = job.steps[name]
    step["failures"] = step.get("failures", 0) + 1
    if policy.exhausted(step["failures"]):
        reason = _("%(provider)s did not answer properly after %(n)s attempts (%(error)s). Try again later.") % {
            "provider": declared.provider_label,
            "n": step["failures"],
            "error": exc.message,
        }
        return _fail(job, name, StepRefused(reason))
    countdown = policy.delay(step["failures"])
    _wait(job, name, exc.message, countdown)
    raise RetryLater(countdown)


def _wait_for_provider(job: Job, name: str) -> None:
    """The circuit is open: wait until it lets a trial call through, without using up the retry budget."""
    declared = kind_of(job)
    jitter = random.uniform(0, max(1.0, declared.retry_policy().base_delay))
    countdown = breaker.seconds_until_retry(declared.provider) + jitter
    _pause(job, name, countdown, _("%(provider)s is unavailable; trying again at %(time)s."))


def _wait_for_pace(job: Job, name: str, exc: Throttled) -> None:
    """The provider asked the portal to slow down, or the shared pace has no slot now: wait, without using up retries."""
    countdown = exc.retry_after + random.uniform(0, 1.0)
    _pause(job, name, countdown, _("%(provider)s asked the portal to slow down; trying again at %(time)s."))


def _pause(job: Job, name: str, countdown: float, message: str) -> None:
    """Wait ``countdown`` seconds without using up a retry; ``message`` says until when (``%(provider)s``, ``%(time)s``)."""
    at = timezone.localtime(timezone.now() + timezone.timedelta(seconds=countdown))
    reason = message % {"provider": kind_of(job).provider_label, "time": at.strftime("%H:%M:%S")}
    _wait(job, name, reason, countdown)
    raise RetryLater(countdown, provider_unavailable=True)


def _wait(job: Job, name: str, reason: str, countdown: float) -> None:
    now = timezone.now()
    job.steps[name].update(status=StepStatus.WAITING, error=reason, at=now.isoformat())
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
        job.steps[name].update(status=StepStatus.NEEDS_ATTENTION, error=reason, at=now.isoformat())
        job.status = JobStatus.NEEDS_ATTENTION
        job.error = reason
        job.due_at = None
        job.finished_at = now
        job.save(update_fields=["steps", "status", "error", "due_at", "finished_at", "updated_at"])
        kind_of(job).accounts_of(job).exclude(status=AccountStatus.ACTIVE).update(
            status=AccountStatus.NEEDS_ATTENTION, status_detail=reason[:1000]
        )
    logger.warning("Job %s (%s) needs attention at %s (outcome unknown)", job.pk, job.kind, name)
    return job


def _claim(job_id: int, task_id: str) -> Job | None:
    """Mark the job running for this task, unless it is finished or another task holds it."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=conf.RUNNING_STALE_AFTER)
    claimed = (
        Job.objects.filter(pk=job_id, kind__in=list(_kinds))
        .filter(Q(status__in=(JobStatus.PENDING, JobStatus.WAITING)) | Q(status=JobStatus.RUNNING, updated_at__lt=stale))
        .update(status=JobStatus.RUNNING, task_id=task_id or "", attempts=F("attempts") + 1, updated_at=now)
    )
    if not claimed:
        return None
    return Job.objects.select_related("user", "pharmacy").get(pk=job_id)


def _set_step(job: Job, name: str, **changes) -> None:
    job.steps.setdefault(name, {}).update(changes, at=timezone.now().isoformat())
    Job.objects.filter(pk=job.pk).update(steps=job.steps, updated_at=timezone.now())


def _fail(job: Job, step: str | None, exc: ProviderError) -> Job:
    declared = kind_of(job)
    reason = exc.message if isinstance(exc, StepRefused) else declared.failure_reason(exc)
    with transaction.atomic():
        if step:
            job.steps.setdefault(step, {}).update(status=StepStatus.FAILED, error=reason, at=timezone.now().isoformat())
        if isinstance(exc, InvalidRequest) and exc.field_errors and not isinstance(exc, StepRefused):
            job.payload["field_errors"] = exc.field_errors
        job.status = JobStatus.FAILED
        job.error = reason
        job.due_at = None
        job.finished_at = timezone.now()
        job.save(update_fields=["steps", "payload", "status", "error", "due_at", "finished_at", "updated_at"])
        declared.accounts_of(job).exclude(status=AccountStatus.ACTIVE).update(
            status=AccountStatus.FAILED, status_detail=reason[:1000]
        )
    logger.info("Job %s (%s) failed at %s: %s", job.pk, job.kind, step, reason)
    return job


# --- What a job page shows -----------------------------------------------------------------


def state(job: Job) -> dict:
    """What a job's page shows about it (also its JSON)."""
    declared = kind_of(job)
    steps = []
    current_seen = False
    for step in declared.steps:
        saved = job.steps.get(step.name, {})
        status = saved.get("status", StepStatus.PENDING)
        if status == StepStatus.PENDING and job.status == JobStatus.RUNNING and not current_seen:
            status = StepStatus.RUNNING  # the first step not done yet is the one running
        current_seen = current_seen or status != StepStatus.DONE
        steps.append({"name": step.name, "label": str(step.label), "status": str(status), "error": saved.get("error", "")})
    return {
        "status": job.status,
        "status_display": str(job.get_status_display()),
        "is_final": job.is_final,
        "error": job.error,
        "attempts": job.attempts,
        "steps": steps,
    }


# --- The sweep ------------------------------------------------------------------------------


def overdue(now=None):
    """Jobs whose task should have run by now: pending or waiting past due, running past the time limit."""
    now = now or timezone.now()
    grace = now - timezone.timedelta(seconds=conf.SWEEP_GRACE)
    stale = now - timezone.timedelta(seconds=conf.RUNNING_STALE_AFTER)
    return Job.objects.filter(kind__in=list(_kinds)).filter(
        Q(status=JobStatus.PENDING, updated_at__lt=grace)
        | Q(status=JobStatus.WAITING, due_at__lt=grace)
        | Q(status=JobStatus.WAITING, due_at__isnull=True, updated_at__lt=grace)
        | Q(status=JobStatus.RUNNING, updated_at__lt=stale)
    )


def sweep(now=None, limit: int = 1000) -> int:
    """Re-enqueue overdue jobs (at most ``limit``); return how many. Duplicates are harmless: the runner claims."""
    from .tasks import run_job

    now = now or timezone.now()
    batch = list(overdue(now).order_by("updated_at").values_list("pk", "status")[:limit])
    # Touch pending jobs so that one still queued behind a long backlog is not re-sent at every sweep.
    pending = [pk for pk, status in batch if status == JobStatus.PENDING]
    Job.objects.filter(pk__in=pending, status=JobStatus.PENDING).update(updated_at=now)
    for pk, _status in batch:
        run_job.delay(pk)
    count = len(batch)
    if count:
        logger.warning("Sweep re-enqueued %s job(s) left behind", count)
    return count
