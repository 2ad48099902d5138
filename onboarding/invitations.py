"""Invitations to join a pharmacy: sent by its titulaire, accepted or declined by the invited person.

Nothing is created for the invited person before they accept: no membership,
no account at a provider. Whether the email already has a portal account is
never told to the inviter. The link in the email is a signed id (minted in
the worker); the invitation's status makes it single-use and ``expires_at``
makes it expire.
"""

from __future__ import annotations

import datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from . import emails
from .conf import invitations as invitation_settings
from .models import Function, Invitation, InvitationStatus, Membership, Pharmacy, User

TOKEN_SALT = "onboarding.invitation"
DETAIL_FIELDS = ("first_name", "last_name", "mobile_number", "rpps_number", "gender")


class InvitationClosed(Exception):
    """The invitation was already answered or has expired; the message says what to do."""


def token_for(invitation: Invitation) -> str:
    return signing.dumps(invitation.public_id.hex, salt=TOKEN_SALT)


def from_token(token: str) -> Invitation | None:
    """The invitation a link points to (whatever its state), or None for a link that is not one of ours."""
    try:
        public_id = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    return Invitation.objects.select_related("pharmacy", "invited_by").filter(public_id=public_id).first()


def invited_user(invitation: Invitation) -> User | None:
    """The portal account that the invited email belongs to, if any."""
    return User.objects.filter(email__iexact=invitation.email).first()


def pending_for(user: User) -> QuerySet[Invitation]:
    """Open invitations to the user's email address."""
    return (
        Invitation.objects.filter(email__iexact=user.email, status=InvitationStatus.PENDING, expires_at__gt=timezone.now())
        .select_related("pharmacy", "invited_by")
        .order_by("-created_at")
    )


def invite(*, pharmacy: Pharmacy, by: User, email: str, function: str, details: dict) -> Invitation:
    """Invite an email to the pharmacy (again: the open invitation is renewed) and queue the email."""
    email = email.strip().lower()
    if Membership.objects.filter(pharmacy=pharmacy, user__email__iexact=email).exists():
        raise ValidationError({"email": _("%(email)s is already a member of this pharmacy.") % {"email": email}})
    expires_at = timezone.now() + datetime.timedelta(days=invitation_settings.LIFETIME_DAYS)
    details = {k: details.get(k, "") for k in DETAIL_FIELDS}
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pharmacy=pharmacy, email=email, status=InvitationStatus.PENDING)
            .first()
        )
        if invitation is None:
            invitation = Invitation.objects.create(
                pharmacy=pharmacy, email=email, function=function, details=details, invited_by=by, expires_at=expires_at
            )
        else:
            invitation.function, invitation.details, invitation.invited_by = function, details, by
            invitation.expires_at = expires_at
            invitation.save(update_fields=["function", "details", "invited_by", "expires_at"])
        emails.queue_invitation(invitation)
    return invitation


def ensure_open(invitation: Invitation) -> None:
    """Raise InvitationClosed, saying what happened and what to do, unless the invitation can still be answered."""
    inviter = invitation.invited_by.get_full_name() if invitation.invited_by else _("the pharmacy's titulaire")
    if invitation.status == InvitationStatus.ACCEPTED:
        raise InvitationClosed(_("This invitation was already accepted. Log in to find the pharmacy on your dashboard."))
    if invitation.status == InvitationStatus.DECLINED:
        raise InvitationClosed(
            _("You declined this invitation. If you changed your mind, ask %(inviter)s to invite you again.")
            % {"inviter": inviter}
        )
    if invitation.is_expired:
        raise InvitationClosed(
            _("This invitation expired on %(date)s. Ask %(inviter)s to send you a new one.")
            % {"date": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d"), "inviter": inviter}
        )


def request_details(invitation: Invitation, user: User | None = None) -> dict:
    """What the invited person's account at a provider is created with: their own details, else what the inviter typed."""
    details = dict(invitation.details)
    if user is not None:
        details.update({k: getattr(user, k) for k in DETAIL_FIELDS if getattr(user, k)})
    return {k: details.get(k, "") for k in DETAIL_FIELDS}


def _lock_open(invitation: Invitation) -> Invitation:
    locked = Invitation.objects.select_for_update(of=("self",)).select_related("pharmacy", "invited_by").get(pk=invitation.pk)
    ensure_open(locked)
    return locked


@transaction.atomic
def decline(invitation: Invitation, *, user: User | None = None) -> Invitation:
    """Decline: nothing is created; the inviter sees the invitation declined."""
    locked = _lock_open(invitation)
    locked.status = InvitationStatus.DECLINED
    locked.user = user or invited_user(locked)
    locked.answered_at = timezone.now()
    locked.save(update_fields=["status", "user", "answered_at"])
    return locked


def accept(invitation: Invitation, *, user: User, start_job, details: dict | None = None):
    """Accept as ``user`` (whose email the invitation is for): the membership, then ``start_job`` (an account at a provider).

    ``start_job(pharmacy=, user=, function=, requested_by=, details=)`` (None:
    nothing to start) runs in the same transaction, returns its Job and may
    refuse with ValidationError, leaving nothing created. Returns (invitation, job).
    """
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(_("This invitation is for %(email)s.") % {"email": invitation.email})
    with transaction.atomic():
        locked = _lock_open(invitation)
        if locked.function not in Function.values:
            raise ValidationError(_("Choose titulaire, adjoint or stagiaire."))
        Membership.objects.get_or_create(pharmacy=locked.pharmacy, user=user, defaults={"function": locked.function})
        job = None
        if start_job is not None:
            job = start_job(
                pharmacy=locked.pharmacy,
                user=user,
                function=locked.function,
                requested_by=locked.invited_by,
                details=details or request_details(locked, user),
            )
        locked.status = InvitationStatus.ACCEPTED
        locked.user = user
        locked.answered_at = timezone.now()
        locked.job = job
        locked.save(update_fields=["status", "user", "answered_at", "job"])
    return locked, job
