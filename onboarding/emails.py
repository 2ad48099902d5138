"""Outgoing email: rendered in the recipient's language, sent by a Celery task after the database commit.

Emails that carry a secret link (email verification, password reset, invitation)
are queued with ids only: the worker looks the records up, mints the key and
builds the link from PUBLIC_BASE_URL, so no key ever travels through the broker.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template import loader
from django.urls import reverse
from django.utils import translation


@dataclass(frozen=True)
class Email:
    to: list[str]
    subject: str
    body: str


def send_later(*, to: list[str], subject: str, body: str, html_body: str = "") -> None:
    """Queue one rendered email (it must hold no secret) for sending once the current transaction commits."""
    from .tasks import send_email

    send_email.delay_on_commit(to=to, subject=subject, body=body, html_body=html_body)


def render(template_prefix: str, context: dict, language: str | None = None) -> tuple[str, str]:
    """Render ``<prefix>_subject.txt`` and ``<prefix>_email.txt`` in the given language."""
    with translation.override(language or translation.get_language()):
        subject = "".join(loader.render_to_string(f"{template_prefix}_subject.txt", context).splitlines())
        body = loader.render_to_string(f"{template_prefix}_email.txt", context)
    return subject, body


def absolute_url(path: str) -> str:
    """A link to the portal, built without a request (in a worker)."""
    return settings.PUBLIC_BASE_URL + path


# --- Queued with ids -------------------------------------------------------------------


def queue_email_confirmation(email_address, *, signup: bool) -> None:
    """Queue the email that verifies an address (allauth's EmailAddress)."""
    from .tasks import send_email_confirmation

    send_email_confirmation.delay_on_commit(
        email_address_id=email_address.pk, signup=signup, language=translation.get_language()
    )


def queue_password_reset(user, email: str) -> None:
    """Queue the email with a link to choose a new password, sent to one of the user's addresses."""
    from allauth.account.models import EmailAddress

    from .tasks import send_password_reset

    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    send_password_reset.delay_on_commit(
        user_id=user.pk, email_address_id=address.pk if address else None, language=translation.get_language()
    )


def queue_invitation(invitation) -> None:
    """Queue the email that asks someone to accept or decline an invitation to a pharmacy."""
    from .tasks import send_invitation

    send_invitation.delay_on_commit(invitation_id=invitation.pk, language=translation.get_language())


# --- Built in the worker -------------------------------------------------------------------


def email_confirmation(email_address_id: int, *, signup: bool, language: str | None = None) -> Email | None:
    """The verification email for an address still unverified (None when there is nothing to verify)."""
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC

    address = EmailAddress.objects.select_related("user").filter(pk=email_address_id, verified=False).first()
    if address is None:
        return None
    key = EmailConfirmationHMAC(address).key
    context = {
        "user": address.user,
        "email": address.email,
        "signup": signup,
        "link": absolute_url(reverse("account_confirm_email", args=[key])),
        "expire_days": settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS,
    }
    subject, body = render("onboarding/email/verify_email", context, language)
    return Email(to=[address.email], subject=subject, body=body)


def password_reset(user_id: int, email_address_id: int | None, language: str | None = None) -> Email | None:
    """The email with a link to choose a new password (None when the account is gone or inactive)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.models import EmailAddress
    from allauth.account.utils import user_pk_to_url_str

    from .models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    address = EmailAddress.objects.filter(pk=email_address_id, user=user).first() if email_address_id else None
    to = address.email if address else user.email
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"}).replace("UID-KEY", key)
    context = {
        "user": user,
        "email": to,
        "link": absolute_url(path),
        "reset_url": absolute_url(reverse("account_reset_password")),
        "timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject, body = render("onboarding/email/password_reset", context, language)
    return Email(to=[to], subject=subject, body=body)


def invitation(invitation_id: int, language: str | None = None) -> Email | None:
    """The invitation email (None when the invitation was answered or has expired)."""
    from . import invitations
    from .models import Invitation

    found = Invitation.objects.select_related("pharmacy", "invited_by").filter(pk=invitation_id).first()
    if found is None or not found.is_open:
        return None
    context = {
        "invitation": found,
        "pharmacy": found.pharmacy,
        "by": found.invited_by,
        "has_account": invitations.invited_user(found) is not None,
        "link": absolute_url(reverse("invitation", args=[invitations.token_for(found)])),
    }
    subject, body = render("onboarding/email/invitation", context, language)
    return Email(to=[found.email], subject=subject, body=body)
