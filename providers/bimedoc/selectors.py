"""Reads about Bimedoc accounts and jobs (nothing here changes a row)."""

from __future__ import annotations

from django.db.models import Q

from onboarding.models import Function, Job, JobStatus, Membership, Pharmacy, Provider, ProviderAccount, User

KIND_ONBOARD = "bimedoc.onboard_pharmacy"
KIND_ADD_COLLEAGUE = "bimedoc.add_colleague"
# The kinds that give someone a Bimedoc account (what a person's pages follow).
KINDS = (KIND_ONBOARD, KIND_ADD_COLLEAGUE)
# Starting the rows of a bulk upload (an administrator's; its rows' onboardings are KIND_ONBOARD jobs).
KIND_START_UPLOAD = "bimedoc.start_bulk_upload"
STEP_START_ROWS = "start_rows"
STEP_CREATE_USER = "create_user"
STEP_CREATE_PHARMACY = "create_pharmacy"
PERSON_FIELDS = ("first_name", "last_name", "mobile_number", "rpps_number", "gender")


def user_account(user: User) -> ProviderAccount | None:
    return ProviderAccount.objects.filter(provider=Provider.BIMEDOC, user=user).first()


def pharmacy_account(pharmacy: Pharmacy) -> ProviderAccount | None:
    return ProviderAccount.objects.filter(provider=Provider.BIMEDOC, pharmacy=pharmacy, user__isnull=True).first()


def is_linked(user: User, pharmacy: Pharmacy) -> bool:
    """Whether the user's Bimedoc user was created in this pharmacy (a Bimedoc user has one pharmacy)."""
    return Job.objects.filter(kind__in=KINDS, user=user, pharmacy=pharmacy, status=JobStatus.SUCCEEDED).exists()


def person(user: User, details: dict) -> dict:
    """A job's request data about the person Bimedoc creates a user for."""
    return {"email": user.email, **{k: details.get(k, "") or "" for k in PERSON_FIELDS}}


def job_person(job: Job) -> dict:
    """The details the job sends Bimedoc about its user (jobs from before request data: the user's profile)."""
    found = job.payload.get("person")
    if found is None:
        found = person(job.user, {k: getattr(job.user, k) for k in PERSON_FIELDS})
    return found


def visible_job(public_id, user: User) -> Job:
    """The job, if the user asked for it, is its subject, or is a member of its pharmacy (else DoesNotExist)."""
    return (
        Job.objects.filter(kind__in=KINDS)
        .filter(Q(requested_by=user) | Q(user=user) | Q(pharmacy__memberships__user=user))
        .select_related("pharmacy", "user")
        .distinct()
        .get(public_id=public_id)
    )


def can_manage_job(user: User, job: Job) -> bool:
    if job.requested_by_id == user.pk:
        return True
    return Membership.objects.filter(user=user, pharmacy_id=job.pharmacy_id, function=Function.TITULAIRE).exists()


def recent_jobs(pharmacy: Pharmacy, limit: int = 5):
    return Job.objects.filter(pharmacy=pharmacy, kind__in=KINDS).select_related("user")[:limit]
