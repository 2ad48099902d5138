"""Celery tasks of Bimedoc's own (its jobs, bulk uploads' included, run on the engine's task)."""

from celery import shared_task


@shared_task(ignore_result=True)
def run_job(job_id: int):
    """A job task queued before jobs ran on the engine's own task (``onboarding.tasks.run_job``): hand it over."""
    from onboarding.tasks import run_job as engine_run_job

    engine_run_job.delay(job_id)
