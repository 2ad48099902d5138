"""Celery tasks for Bimedoc jobs: thin wrappers around the services."""

import random

from celery import shared_task
from django.conf import settings

from providers.http import RetryableError

from . import services


@shared_task(bind=True, max_retries=None)
def run_job(self, job_id: int):
    """Run a Bimedoc job's remaining steps; retry transient failures with backoff, then give up with a reason."""
    try:
        services.run_job(job_id, task_id=self.request.id or "", attempt=self.request.retries + 1)
    except RetryableError as exc:
        if self.request.retries >= settings.BIMEDOC_MAX_RETRIES:
            services.give_up(job_id, exc)
            return
        delay = settings.BIMEDOC_RETRY_DELAY * 2**self.request.retries
        raise self.retry(exc=exc, countdown=random.uniform(delay / 2, delay))
