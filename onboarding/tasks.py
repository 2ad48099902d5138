"""Background work of the onboarding domain (thin wrappers around services)."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from . import emails

EMAIL_TASK = {
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**EMAIL_TASK)
def send_email(*, to, subject, body, html_body=""):
    """Send one email through Django's email framework (retried when the mail server is unreachable)."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()


def _deliver(email):
    if email is not None:
        send_email.run(to=email.to, subject=email.subject, body=email.body)


@shared_task(**EMAIL_TASK)
def send_email_confirmation(*, email_address_id, signup=False, language=None):
    """Build (with a fresh key) and send the email that verifies an address."""
    _deliver(emails.email_confirmation(email_address_id, signup=signup, language=language))


@shared_task(**EMAIL_TASK)
def send_password_reset(*, user_id, email_address_id=None, language=None):
    """Build (with a fresh token) and send the email with a link to choose a new password."""
    _deliver(emails.password_reset(user_id, email_address_id, language=language))


@shared_task(**EMAIL_TASK)
def send_invitation(*, invitation_id, language=None):
    """Build and send the email that asks someone to accept or decline an invitation to a pharmacy."""
    _deliver(emails.invitation(invitation_id, language=language))


@shared_task(bind=True, max_retries=None)
def run_job(self, job_id: int):
    """Run a job's remaining steps; when it must wait, run again later (the engine says when).

    The retry budget is counted by the engine on the job's steps (real failed
    tries only), not by Celery: waiting for an open circuit costs nothing.
    """
    from . import jobs

    try:
        jobs.run(job_id, task_id=self.request.id or "")
    except jobs.RetryLater as later:
        if self.request.is_eager and later.provider_unavailable:
            # In-process (no broker) there is no "later": the job stays waiting and the sweep takes it up.
            return
        raise self.retry(countdown=later.countdown)


@shared_task(ignore_result=True)
def sweep_jobs():
    """Re-enqueue jobs whose task was lost (never published, worker died, retry overdue)."""
    from . import jobs

    return jobs.sweep()
