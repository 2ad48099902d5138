"""Bulk onboarding from a CSV file: validate every row, then onboard the valid ones (idempotent on re-run)."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from onboarding import services as onboarding_services
from onboarding.models import Job, JobStatus, User

from . import services
from .forms import PharmacyForm, TitulaireForm

USER_COLUMNS = ("email", "first_name", "last_name", "mobile_number", "rpps_number", "gender")
PHARMACY_COLUMNS = ("name", "phone_number", "street", "city", "postcode")
COLUMNS = USER_COLUMNS + PHARMACY_COLUMNS
REQUIRED_COLUMNS = ("email", "first_name", "last_name", "gender", "name")


class FileError(Exception):
    """The file cannot be read as an import (not a row problem)."""


@dataclass
class Row:
    number: int  # line number in the file (the header is line 1)
    email: str = ""
    profile: dict = field(default_factory=dict)
    pharmacy: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    existing_job: Job | None = None

    @property
    def idempotency_key(self) -> str:
        name = " ".join(self.pharmacy.get("name", "").lower().split())
        return "import:" + hashlib.sha256(f"{self.email}\n{name}".encode()).hexdigest()[:40]


def read_rows(path) -> list[Row]:
    """Read and validate every row; problems are collected on each row, never raised."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.DictReader(handle, dialect=dialect)
            header = [(h or "").strip() for h in (reader.fieldnames or [])]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            unknown = [c for c in header if c not in COLUMNS]
            if missing or unknown:
                problems = []
                if missing:
                    problems.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
                if unknown:
                    problems.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
                raise FileError("; ".join(problems) + ". " + _("Expected: %(columns)s") % {"columns": ", ".join(COLUMNS)})
            reader.fieldnames = header
            rows = [_validate(reader.line_num, raw) for raw in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FileError(str(exc))
    _check_duplicates(rows)
    return rows


def _validate(number: int, raw: dict) -> Row:
    raw = {k: (v or "").strip() for k, v in raw.items() if k}
    row = Row(number=number, email=raw.get("email", "").lower())
    person = TitulaireForm({k: raw.get(k, "") for k in USER_COLUMNS if k != "email"})
    pharmacy = PharmacyForm({k: raw.get(k, "") for k in PHARMACY_COLUMNS})
    email_field = User._meta.get_field("email").formfield()
    try:
        row.email = email_field.clean(row.email)
    except ValidationError as exc:
        row.errors.append(f"email: {' '.join(exc.messages)}")
    for form in (person, pharmacy):
        if not form.is_valid():
            row.errors += [f"{name}: {' '.join(messages)}" for name, messages in form.errors.items()]
    if row.errors:
        return row
    row.profile = person.cleaned_data
    row.pharmacy = pharmacy.cleaned_data
    row.existing_job = Job.objects.filter(idempotency_key=row.idempotency_key).first()
    if row.existing_job is None:
        user = User.objects.filter(email__iexact=row.email).first()
        if user is not None:
            try:
                services.check_can_get_account(user)
            except ValidationError as exc:
                row.errors += exc.messages
    return row


def _check_duplicates(rows: list[Row]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if not row.email or row.errors:
            continue
        if row.email in seen:
            row.errors.append(_("email: also on line %(line)s; one pharmacy per titulaire.") % {"line": seen[row.email]})
        else:
            seen[row.email] = row.number


def onboard(row: Row) -> tuple[str, Job]:
    """Start (or resume, or skip) the row's onboarding; return what was done and the job."""
    job = row.existing_job or Job.objects.filter(idempotency_key=row.idempotency_key).first()
    if job is not None:
        if job.status == JobStatus.SUCCEEDED:
            return "skipped", job
        if job.status == JobStatus.FAILED:
            return "resumed", services.retry_job(job, by=job.requested_by)
        if job.status == JobStatus.NEEDS_ATTENTION:
            # Settled in the admin (a create may have landed at Bimedoc): re-running the import does not resend it.
            return "needs_attention", job
        return "in_progress", job
    with transaction.atomic():
        user = User.objects.filter(email__iexact=row.email).first()
        if user is None:
            user = onboarding_services.register_staff(email=row.email, password=None, **row.profile)
        job = services.start_onboarding(
            titulaire=user, profile={}, pharmacy_fields=row.pharmacy, idempotency_key=row.idempotency_key
        )
    return "started", job
