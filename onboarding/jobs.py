"""Jobs of every kind, generically: which task runs a kind, re-enqueueing, and the sweep of jobs left behind.

``settings.JOB_RUNNERS`` maps a job-kind prefix to the dotted paths of the
Celery task that runs such jobs (``task``: it takes the job's id and is safe to
run twice, as it claims the job and resumes from its checkpoints) and of the
service that retries one (``retry(job, by=, checked=)``). The sweep re-enqueues jobs
whose task was lost: never published (a crash between the commit and the
publish), held by a worker that died, or overdue for their retry.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Job, JobStatus

logger = logging.getLogger(__name__)


def _entry(kind: str) -> dict:
    for prefix, entry in settings.JOB_RUNNERS.items():
        if kind.startswith(prefix):
            return entry
    raise LookupError(f"No runner for jobs of kind {kind!r}")


def runner_for(kind: str):
    """The Celery task that runs jobs of this kind (LookupError when no runner is registered)."""
    return import_string(_entry(kind)["task"])


def retry(job: Job, *, by, checked: bool = False) -> Job:
    """Resume a failed job (and, when ``checked`` by an administrator, one that needs attention)."""
    return import_string(_entry(job.kind)["retry"])(job, by=by, checked=checked)


def enqueue(job: Job, *, on_commit: bool = True) -> None:
    """Send the job to its runner, after the current transaction commits (or now)."""
    task = runner_for(job.kind)
    if on_commit:
        task.delay_on_commit(job.pk)
    else:
        task.delay(job.pk)


def overdue(now=None):
    """Jobs whose task should have run by now: pending or waiting past due, running past the time limit."""
    now = now or timezone.now()
    grace = now - timezone.timedelta(seconds=settings.JOB_SWEEP_GRACE)
    stale = now - timezone.timedelta(seconds=settings.JOB_RUNNING_STALE_AFTER)
    kinds = Q()
    for prefix in settings.JOB_RUNNERS:
        kinds |= Q(kind__startswith=prefix)
    return Job.objects.filter(kinds).filter(
        Q(status=JobStatus.PENDING, updated_at__lt=grace)
        | Q(status=JobStatus.WAITING, due_at__lt=grace)
        | Q(status=JobStatus.WAITING, due_at__isnull=True, updated_at__lt=grace)
        | Q(status=JobStatus.RUNNING, updated_at__lt=stale)
    )


def sweep(now=None, limit: int = 1000) -> int:
    """Re-enqueue overdue jobs (at most ``limit``); return how many. Duplicates are harmless: the runner claims."""
    now = now or timezone.now()
    batch = list(overdue(now).order_by("updated_at").values_list("pk", "kind", "status")[:limit])
    # Touch pending jobs so that one still queued behind a long backlog is not re-sent at every sweep.
    pending = [pk for pk, _kind, status in batch if status == JobStatus.PENDING]
    Job.objects.filter(pk__in=pending, status=JobStatus.PENDING).update(updated_at=now)
    for pk, kind, _status in batch:
        runner_for(kind).delay(pk)
    count = len(batch)
    if count:
        logger.warning("Sweep re-enqueued %s job(s) left behind", count)
    return count
