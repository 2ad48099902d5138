"""Celery tasks for Bimedoc jobs: thin wrappers around the services."""

from celery import shared_task

from . import services


@shared_task(bind=True, max_retries=None)
def run_job(self, job_id: int):
    """Run a Bimedoc job's remaining steps; when it must wait, run again later (the service says when).

    The retry budget is counted by the service on the job's steps (real failed
    tries only), not by Celery: waiting for an open circuit costs nothing.
    """
    try:
        services.run_job(job_id, task_id=self.request.id or "")
    except services.RetryLater as later:
        if self.request.is_eager and later.provider_unavailable:
            # In-process (no broker) there is no "later": the job stays waiting and the sweep takes it up.
            return
        raise self.retry(countdown=later.countdown)


@shared_task(ignore_result=True)
def start_bulk_upload(upload_id: int):
    """Start the onboardings of an uploaded file's rows, one after another."""
    from . import bulk_uploads

    return bulk_uploads.start(upload_id)
