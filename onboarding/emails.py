"""Outgoing email: rendered in the recipient's language, sent by a Celery task after the database commit."""

from __future__ import annotations

from django.contrib.auth.forms import PasswordResetForm
from django.template import loader
from django.utils import translation


def send_later(*, to: list[str], subject: str, body: str, html_body: str = "") -> None:
    """Queue one email for sending once the current transaction commits."""
    from .tasks import send_email

    send_email.delay_on_commit(to=to, subject=subject, body=body, html_body=html_body)


def render(template_prefix: str, context: dict, language: str | None = None) -> tuple[str, str]:
    """Render ``<prefix>_subject.txt`` and ``<prefix>_email.txt`` in the given language."""
    with translation.override(language or translation.get_language()):
        subject = "".join(loader.render_to_string(f"{template_prefix}_subject.txt", context).splitlines())
        body = loader.render_to_string(f"{template_prefix}_email.txt", context)
    return subject, body


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's password reset form, with the message sent by a Celery task instead of in the request."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html_body = loader.render_to_string(html_email_template_name, context) if html_email_template_name else ""
        send_later(to=[to_email], subject=subject, body=body, html_body=html_body)
