"""Celery tasks of Bimedoc's own: thin wrappers around services (its jobs run on the engine's task)."""

from celery import shared_task


@shared_task(ignore_result=True)
def start_bulk_upload(upload_id: int):
    """Start the onboardings of an uploaded file's rows, one after another."""
    from . import bulk_uploads

    return bulk_uploads.start(upload_id)


@shared_task(ignore_result=True)
def run_job(job_id: int):
    """A job task queued before jobs ran on the engine's own task (``onboarding.tasks.run_job``): hand it over."""
    from onboarding.tasks import run_job as engine_run_job

    engine_run_job.delay(job_id)
