"""What the portal does with Bimedoc: onboard a pharmacy, add colleagues, open the app by SSO.

Onboarding and adding a colleague are jobs (declared in ``jobs.py``) that the
domain's job engine runs step by step in Celery.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from onboarding import invitations
from onboarding import jobs as engine
from onboarding import services as onboarding_services
from onboarding.audit import audit_context, record_call
from onboarding.models import Function, Invitation, Job, Membership, Pharmacy, Provider, ProviderAccount, User
from providers import http

from .client import PROVIDER, BimedocClient, sso_url
from .conf import conf
from .labels import failure_reason  # noqa: F401 - the views word failures with it
from .selectors import (  # noqa: F401 - the names callers know Bimedoc's jobs and accounts by
    KIND_ADD_COLLEAGUE,
    KIND_ONBOARD,
    KINDS,
    PERSON_FIELDS,
    STEP_CREATE_PHARMACY,
    STEP_CREATE_USER,
    can_manage_job,
    is_linked,
    job_person,
    person,
    pharmacy_account,
    user_account,
)

logger = logging.getLogger(__name__)

COLLEAGUE_FUNCTIONS = (Function.ADJOINT, Function.STAGIAIRE)


# --- The client ---------------------------------------------------------------------------


def _build(outbound: http.Outbound) -> BimedocClient:
    base_url, partner_id, api_key = outbound.key
    return BimedocClient(base_url=base_url, partner_id=partner_id, api_key=api_key, **outbound.transport_options())


def client() -> BimedocClient:
    """The process's Bimedoc client (one pooled session shared by its threads), built from settings."""
    return http.client_for(
        PROVIDER,
        _build,
        key=(conf.BASE_URL, conf.PARTNER_ID, conf.API_KEY),
        recorder=record_call,
        paced=True,
        max_rps=conf.MAX_RPS,
        max_wait=conf.RATE_LIMIT_MAX_WAIT,
    )


def close_clients() -> None:
    """Close the pooled connections of the Bimedoc clients built so far (they are rebuilt on demand)."""
    http.close_clients(PROVIDER)


# --- Accounts -----------------------------------------------------------------------------


def check_can_get_account(user: User) -> None:
    """Refuse (ValidationError) when the user already has, or is getting, a Bimedoc account: one per email."""
    refusal = _account_refusal(user, user_account(user), lambda: engine.busy(user=user, kind__in=KINDS).exists())
    if refusal:
        raise ValidationError(refusal)


def account_refusals(users: list[User]) -> dict[int, str]:
    """``check_can_get_account`` for many users in two queries: why each refused user cannot (by user id)."""
    accounts = {a.user_id: a for a in ProviderAccount.objects.filter(provider=Provider.BIMEDOC, user__in=users)}
    busy = set(engine.busy(user__in=users, kind__in=KINDS).values_list("user_id", flat=True))
    refusals = {user.pk: _account_refusal(user, accounts.get(user.pk), lambda user=user: user.pk in busy) for user in users}
    return {pk: refusal for pk, refusal in refusals.items() if refusal}


def _account_refusal(user: User, account: ProviderAccount | None, busy) -> str | None:
    if account is not None and account.remote_id:
        if account.is_active:
            message = _("%(email)s already has a Bimedoc account: Bimedoc allows one account per email address.")
        else:
            message = _("%(email)s already has a Bimedoc account from a set-up that did not finish: retry that one instead.")
        return message % {"email": user.email}
    if busy():
        return _("A Bimedoc account for %(email)s is already being set up.") % {"email": user.email}
    return None


# --- Starting jobs ------------------------------------------------------------------------


def start_onboarding(*, titulaire: User, profile: dict, pharmacy_fields: dict, idempotency_key: str) -> Job:
    """Create the pharmacy with its titulaire and the job that puts both on Bimedoc (once per key)."""
    existing = Job.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    check_can_get_account(titulaire)
    try:
        with transaction.atomic():
            onboarding_services.update_profile(titulaire, **profile)
            pharmacy = onboarding_services.create_pharmacy(titulaire=titulaire, **pharmacy_fields)
            return _onboarding_job(pharmacy, titulaire, idempotency_key)
    except IntegrityError as error:
        return _job_that_won(idempotency_key, error)


def _onboarding_job(pharmacy: Pharmacy, titulaire: User, key: str) -> Job:
    """In the caller's transaction: the accounts the job fills, and the job (the titulaire's user, then the pharmacy)."""
    onboarding_services.ensure_account(Provider.BIMEDOC, pharmacy=pharmacy)
    onboarding_services.ensure_account(Provider.BIMEDOC, user=titulaire, login=titulaire.email)
    return engine.create(
        KIND_ONBOARD,
        pharmacy=pharmacy,
        user=titulaire,
        requested_by=titulaire,
        idempotency_key=key,
        payload={
            "function": Function.TITULAIRE,
            "person": person(titulaire, {k: getattr(titulaire, k) for k in PERSON_FIELDS}),
        },
    )


def _job_that_won(key: str, error: IntegrityError) -> Job:
    """A concurrent request with the same key won the race: answer with its job (any other conflict is raised)."""
    existing = Job.objects.filter(idempotency_key=key).first()
    if existing is None:
        raise error
    return existing


def onboarding_job_of(pharmacy: Pharmacy) -> Job | None:
    """The job that puts the pharmacy on Bimedoc, when one was started (by the wizard or the button)."""
    return Job.objects.filter(kind=KIND_ONBOARD, pharmacy=pharmacy).order_by("-created_at").first()


def _on_bimedoc(pharmacy: Pharmacy) -> bool:
    remote = pharmacy_account(pharmacy)
    return remote is not None and (remote.is_active or bool(remote.remote_id))


def start_pharmacy_onboarding(*, pharmacy: Pharmacy, by: User) -> Job:
    """Put a pharmacy the portal already has on Bimedoc with its titulaire ``by``: the wizard's last step, once.

    The same job as the wizard's (create the titulaire's Bimedoc user, then the
    pharmacy); asking again, or after the wizard started one, answers with that job.
    """
    onboarding_services.require_member(by, pharmacy, functions=[Function.TITULAIRE])
    onboarding_services.require_verified_email(by)
    existing = onboarding_job_of(pharmacy)
    if existing is not None:
        return existing
    if _on_bimedoc(pharmacy):
        raise ValidationError(_("The pharmacy is on Bimedoc already."))
    check_can_get_account(by)
    key = f"pharmacy:{pharmacy.public_id}"
    try:
        with transaction.atomic():
            return _onboarding_job(pharmacy, by, key)
    except IntegrityError as error:
        return _job_that_won(key, error)


def pharmacy_onboarding_refusal(pharmacy: Pharmacy, user: User) -> list[str] | None:
    """Why ``user`` cannot put the pharmacy on Bimedoc now ([] when they can; None when there is nothing to offer).

    The same rule as ``start_pharmacy_onboarding``: nothing to offer once the pharmacy is on Bimedoc or
    has its job (under way, or stopped: its job page says what to do).
    """
    if not Membership.objects.filter(user=user, pharmacy=pharmacy, function=Function.TITULAIRE).exists():
        return None
    if onboarding_job_of(pharmacy) is not None or _on_bimedoc(pharmacy):
        return None
    try:
        check_can_get_account(user)
    except ValidationError as exc:
        return exc.messages
    return []


def add_colleague(*, pharmacy: Pharmacy, by: User, function: str, email: str, **profile) -> Invitation:
    """Invite a colleague (adjoint or stagiaire) to the pharmacy; their Bimedoc user is created once they accept.

    The answer is the same whether the email has a portal account or not.
    """
    onboarding_services.require_member(by, pharmacy, functions=[Function.TITULAIRE])
    onboarding_services.require_verified_email(by)
    if function not in COLLEAGUE_FUNCTIONS:
        raise ValidationError({"function": _("A colleague is an adjoint or a stagiaire.")})
    remote_pharmacy = pharmacy_account(pharmacy)
    if remote_pharmacy is None or not remote_pharmacy.is_active:
        raise ValidationError(_("The pharmacy is not on Bimedoc yet: finish setting it up first."))
    return invitations.invite(pharmacy=pharmacy, by=by, email=email, function=function, details=profile)


def start_colleague_job(*, pharmacy: Pharmacy, user: User, function: str, requested_by: User | None, details: dict) -> Job:
    """The job that creates a colleague's Bimedoc user in the pharmacy (run when they accept an invitation).

    ``details`` are the job's own request data (what Bimedoc is sent), never written to anyone's profile.
    """
    check_can_get_account(user)
    remote_pharmacy = pharmacy_account(pharmacy)
    if remote_pharmacy is None or not remote_pharmacy.is_active:
        raise ValidationError(_("The pharmacy is not on Bimedoc yet: finish setting it up first."))
    with transaction.atomic():
        onboarding_services.ensure_account(Provider.BIMEDOC, user=user, login=user.email)
        return engine.create(
            KIND_ADD_COLLEAGUE,
            pharmacy=pharmacy,
            user=user,
            requested_by=requested_by,
            payload={"function": function, "person": person(user, details)},
        )


# --- Retrying, settling, correcting -------------------------------------------------------


def retry_job(job: Job, *, by: User, checked: bool = False) -> Job:
    """Resume a failed job from the step that failed (steps that succeeded are not repeated).

    A job that needs attention (a create whose outcome is unknown) is resumed only
    by someone who ``checked`` at Bimedoc that the create did not land (an
    administrator): its steps are then sent again.
    """
    if not (checked or can_manage_job(by, job)):
        raise PermissionDenied
    return engine.retry(job, by=by, checked=checked)


def resolve_job(job: Job, *, by: User, remote_user_id: str = "", remote_pharmacy_id: str = "") -> Job:
    """Settle the job's unfinished steps with the ids an administrator found at Bimedoc, then resume it.

    Raises ValidationError when an id the job needs is missing. The steps given
    an id are checkpointed as done; the job then runs what is left (if anything).
    """
    remaining = engine.unfinished_steps(job)
    if not remaining:
        raise ValidationError(_("Only a job that failed or needs attention can be settled by hand."))
    remote_user_id, remote_pharmacy_id = remote_user_id.strip(), remote_pharmacy_id.strip()
    errors = {}
    if STEP_CREATE_USER in remaining and not remote_user_id:
        errors["remote_user_id"] = _("Enter the id of the user on Bimedoc.")
    if STEP_CREATE_PHARMACY in remaining and not remote_pharmacy_id:
        account = user_account(job.user)
        if STEP_CREATE_USER in remaining or not (account and (account.secrets or {}).get("jwt")):
            # Without the sign-up token Bimedoc gave with the user, the portal cannot create the pharmacy.
            errors["remote_pharmacy_id"] = _(
                "Enter the id of the pharmacy on Bimedoc: without the user's sign-up token the portal cannot create it."
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if STEP_CREATE_USER in remaining:
            onboarding_services.save_account(
                Provider.BIMEDOC, user=locked.user, remote_id=remote_user_id, login=locked.user.email
            )
            engine.settle_step(locked, STEP_CREATE_USER, by=by, remote_id=remote_user_id)
        if STEP_CREATE_PHARMACY in remaining and remote_pharmacy_id:
            remote = onboarding_services.ensure_account(Provider.BIMEDOC, pharmacy=locked.pharmacy)
            onboarding_services.activate_account(remote, remote_id=remote_pharmacy_id, secrets=remote.secrets)
            engine.settle_step(locked, STEP_CREATE_PHARMACY, by=by, remote_id=remote_pharmacy_id)
        if engine.all_done(locked):
            # Every remote object exists: the user's account is active, its sign-up token no longer needed.
            account = onboarding_services.ensure_account(Provider.BIMEDOC, user=locked.user, login=locked.user.email)
            onboarding_services.activate_account(account)
        logger.info("Bimedoc job %s settled by %s", locked.pk, by.email)
    return retry_job(locked, by=by, checked=True)


def correct_and_retry(job: Job, *, by: User, user_fields: dict | None = None, pharmacy_fields: dict | None = None) -> Job:
    """Save corrected details (the ones Bimedoc refused) and resume the job.

    A person's details are corrected in the job's own request data only: their
    profile is theirs (or an admin's) to change.
    """
    if not can_manage_job(by, job):
        raise PermissionDenied
    with transaction.atomic():
        if user_fields:
            unknown = set(user_fields) - set(PERSON_FIELDS)
            if unknown:
                raise TypeError(f"Not a person field: {sorted(unknown)}")
            job = engine.set_payload(job, person={**job_person(job), **user_fields})
        if pharmacy_fields:
            onboarding_services.update_pharmacy(job.pharmacy, **pharmacy_fields)
        return retry_job(job, by=by)


def step_to_correct(job: Job) -> str | None:
    """The failed step whose details the user can correct (Bimedoc refused some fields), if any."""
    return engine.step_to_correct(job)


# --- SSO ----------------------------------------------------------------------------------


class NotReady(Exception):
    """The user cannot open Bimedoc yet; the message says why."""


def open_bimedoc(*, user: User, pharmacy: Pharmacy) -> str:
    """The URL that signs the user in to Bimedoc for this pharmacy (asks Bimedoc for an SSO token now).

    Raises PermissionDenied for non-members, NotReady when the accounts are not active, ProviderError on failure.
    """
    onboarding_services.require_member(user, pharmacy)
    account = user_account(user)
    remote = pharmacy_account(pharmacy)
    if remote is None or not remote.is_active:
        raise NotReady(_("This pharmacy is not on Bimedoc yet."))
    if account is None or not account.is_active:
        raise NotReady(_("You do not have an active Bimedoc account yet."))
    if not is_linked(user, pharmacy):
        raise NotReady(_("Your Bimedoc account belongs to another pharmacy."))
    with audit_context(user=user, pharmacy=pharmacy):
        token = client().create_sso_token(account.remote_id)
    return sso_url(conf.APP_URL, remote.remote_id, token)

