"""Background work of the onboarding domain (thin wrappers around services)."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_email(*, to, subject, body, html_body=""):
    """Send one email through Django's email framework (retried when the mail server is unreachable)."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()


@shared_task(ignore_result=True)
def sweep_jobs():
    """Re-enqueue jobs whose task was lost (never published, worker died, retry overdue)."""
    from . import jobs

    return jobs.sweep()
