"""Bimedoc's part of ``load_demo``: put the demo pharmacy, its titulaire and its adjoint on Bimedoc (development only).

Through the portal's own jobs. Before the server is up the sandbox answers
in-process; a Bimedoc that is not the sandbox is called over HTTP as usual.
"""

from __future__ import annotations

import contextlib

from onboarding.models import Function, Job, JobStatus

from . import services
from .conf import conf


def after(*, titulaire, pharmacy) -> tuple[list[str], list[str]]:
    """Start (or retry) the demo's Bimedoc jobs; say how they went and what to click."""
    from providers.sandbox import inprocess

    notes = []
    adjoint = next((m.user for m in pharmacy.memberships.select_related("user") if m.function == Function.ADJOINT), None)
    in_process = inprocess.serves(conf.BASE_URL)
    session = services.client().transport.session
    with inprocess.mounted(session) if in_process else contextlib.nullcontext():
        remote = services.pharmacy_account(pharmacy)
        if remote is None or not remote.is_active:
            job = services.start_pharmacy_onboarding(pharmacy=pharmacy, by=titulaire)
            if job.status == JobStatus.FAILED:  # e.g. the last load_demo could not reach Bimedoc
                job = services.retry_job(job, by=titulaire)
            notes += _report(job)
        account = services.user_account(adjoint) if adjoint else None
        remote = services.pharmacy_account(pharmacy)
        if adjoint and remote is not None and remote.is_active and (account is None or not account.remote_id):
            job = Job.objects.filter(kind=services.KIND_ADD_COLLEAGUE, user=adjoint, pharmacy=pharmacy).first()
            if job is None:
                job = services.start_colleague_job(
                    pharmacy=pharmacy,
                    user=adjoint,
                    function=Function.ADJOINT,
                    requested_by=titulaire,
                    details={k: getattr(adjoint, k) for k in services.PERSON_FIELDS},
                )
            elif job.status == JobStatus.FAILED:
                job = services.retry_job(job, by=titulaire)
            notes += _report(job)
    if services.is_linked(titulaire, pharmacy) and services.pharmacy_account(pharmacy).is_active:
        notes.append(f"{pharmacy.name} is on Bimedoc (sandbox) with its titulaire and adjoint.")
        return notes, ['Click "Open Bimedoc": you land signed in on Bimedoc (the sandbox app).']
    return notes, ['Click "Put the pharmacy on Bimedoc", then "Open Bimedoc" once its job is done.']


def _report(job) -> list[str]:
    """Say so when a demo job did not finish here (queued on the workers, or failed)."""
    job.refresh_from_db()
    if job.status == JobStatus.SUCCEEDED:
        return []
    detail = f": {job.error}" if job.error else ""
    return [f"Bimedoc job for {job.user.email}: {job.get_status_display()}{detail}"]
