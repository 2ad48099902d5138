"""The portal's django-allauth adapters: email sent by the workers from ids, TOTP secrets encrypted at rest."""

from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext_lazy as _

from . import crypto, emails
from .models import User

logger = logging.getLogger(__name__)

# allauth emails whose body holds no secret (no key, code or token): rendered in the request, sent by a task.
# Anything else allauth may send is refused rather than sent with a secret through the broker.
SECRET_FREE_EMAILS = frozenset(
    {
        "account/email/account_already_exists",
        "account/email/unknown_account",
        "account/email/email_changed",
        "account/email/email_confirm",
        "account/email/email_deleted",
        "account/email/password_changed",
        "account/email/password_reset",
        "account/email/password_set",
        "mfa/email/totp_activated",
        "mfa/email/totp_deactivated",
        "mfa/email/recovery_codes_generated",
        "mfa/email/webauthn_added",
        "mfa/email/webauthn_removed",
    }
)


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up saves the staff details; email leaves through Celery with ids only, its links built in the worker."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed attempts to log in to this account. Wait a few minutes and try again, "
            "or choose a new password through “Forgotten your password?”."
        ),
        "rate_limited": _("Too many attempts in a short time. Wait a few minutes, then try again."),
    }

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        if hasattr(form, "profile"):
            for name, value in form.profile().items():
                setattr(user, name, value)
        if commit:
            user.save()
        return user

    def send_confirmation_mail(self, request, emailconfirmation, signup):
        emails.queue_email_confirmation(emailconfirmation.email_address, signup=signup)

    def send_password_reset_mail(self, user, email, context):
        emails.queue_password_reset(user, email)

    def send_mail(self, template_prefix, email, context):
        if template_prefix not in SECRET_FREE_EMAILS:
            logger.error("Refused to send %s: it is not known to be free of secrets", template_prefix)
            raise ValueError(f"The email {template_prefix!r} is not sent by this portal.")
        context = {"email": email, "public_base_url": settings.PUBLIC_BASE_URL, **context}
        message = self.render_mail(template_prefix, email, context)
        html_body = next((body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"), "")
        emails.send_later(to=message.to, subject=message.subject, body=message.body, html_body=html_body)

    def format_email_subject(self, subject):
        return str(subject)

    def confirm_email(self, request, email_address):
        # Another account still holds the address (unverified, as its login): it cannot be taken from it here.
        if User.objects.filter(email__iexact=email_address.email).exclude(pk=email_address.user_id).exists():
            self.add_message(
                request,
                messages.ERROR,
                "account/messages/email_confirmation_failed.txt",
                {"email": email_address.email},
            )
            return False
        return super().confirm_email(request, email_address)


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets stored encrypted with FIELD_ENCRYPTION_KEYS (allauth stores them as they are by default)."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": _(
            "This code is wrong or was already used. Wait for the next code in your authenticator app and enter it, "
            "or use one of your recovery codes."
        ),
        "unverified_email": _("Verify your email address first (see your profile), then set up two-factor authentication."),
    }

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def get_totp_issuer(self) -> str:
        return settings.MFA_TOTP_ISSUER

