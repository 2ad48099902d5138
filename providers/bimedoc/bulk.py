"""Bulk onboarding from a CSV file: validate every row, then onboard the valid ones (idempotent on re-run).

One service for both front ends: ``manage.py import_pharmacies`` and the
upload page in Django admin (see ``bulk_admin``).
"""

from __future__ import annotations

import csv
import hashlib
import io
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
DELIMITERS = ",;\t"


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: a line of the file (the header is line 1) and a column, when known."""

    line: int | None
    column: str
    message: str

    @property
    def what(self) -> str:
        """The problem without its line: "column: message", or the message alone."""
        return f"{self.column}: {self.message}" if self.column else self.message

    def __str__(self):
        return f"line {self.line}: {self.what}" if self.line else self.what


class FileError(Exception):
    """The file cannot be read as an import (not a row problem); ``problems`` says every reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Row:
    number: int  # line number in the file (the header is line 1)
    email: str = ""
    profile: dict = field(default_factory=dict)
    pharmacy: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    existing_job: Job | None = None

    @property
    def errors(self) -> list[str]:
        """The row's problems as "column: what" sentences."""
        return [p.what for p in self.problems]

    def add(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.number, column, message))

    @property
    def idempotency_key(self) -> str:
        name = " ".join(self.pharmacy.get("name", "").lower().split())
        return "import:" + hashlib.sha256(f"{self.email}\n{name}".encode()).hexdigest()[:40]


def read_rows(path) -> list[Row]:
    """Read and validate every row of the file at ``path``; problems are collected on each row, never raised."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise FileError([Problem(None, "", str(exc))])
    return parse(data)


def parse(data: bytes) -> list[Row]:
    """Validate every row of a CSV file's bytes (UTF-8; comma, semicolon or tab); FileError when it is no such file."""
    text = _decode(data)
    if not text.strip():
        raise FileError([Problem(None, "", _("The file is empty."))])
    if "\x00" in text:
        raise FileError([Problem(_line_of(text, text.index("\x00")), "", _("The file is not text (it holds NUL bytes)."))])
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
        header = [cell.strip().lower() for cell in next(reader)]
        _check_header(header)
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines
            rows.append(_validate(reader.line_num, header, cells))
    except csv.Error as exc:
        raise FileError([Problem(reader.line_num or None, "", _("The file is not valid CSV (%(error)s).") % {"error": exc})])
    if not rows:
        raise FileError([Problem(None, "", _("The file has a header but no rows."))])
    _check_duplicates(rows)
    _check_against_the_portal(rows)
    return rows


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileError(
            [
                Problem(
                    line,
                    "",
                    _("The file is not UTF-8 text (byte 0x%(byte)02x): save it as \"CSV UTF-8\" and upload it again.")
                    % {"byte": data[exc.start]},
                )
            ]
        )


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _check_header(header: list[str]) -> None:
    problems = []
    if len(header) == 1 and any(sep in header[0] for sep in "|:,;\t ") and header[0] not in COLUMNS:
        message = _("The columns are not separated by commas, semicolons or tabs: %(header)s") % {"header": header[0][:200]}
        problems.append(Problem(1, "", message))
    else:
        seen = set()
        for name in header:
            if name in seen:
                problems.append(Problem(1, name, _("This column appears twice.")))
            seen.add(name)
        for name in header:
            if name not in COLUMNS:
                problems.append(Problem(1, name[:60] or "—", _("Unknown column.")))
        for name in REQUIRED_COLUMNS:
            if name not in header:
                problems.append(Problem(1, name, _("Missing column (required).")))
    if problems:
        problems.append(Problem(1, "", _("Expected columns: %(columns)s") % {"columns": ", ".join(COLUMNS)}))
        raise FileError(problems)


def _validate(number: int, header: list[str], cells: list[str]) -> Row:
    row = Row(number=number)
    if len(cells) != len(header):
        message = _("This row has %(cells)s cells where the header has %(columns)s columns.")
        row.add("", message % {"cells": len(cells), "columns": len(header)})
        return row
    raw = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    row.email = raw.get("email", "").lower()
    person = TitulaireForm({k: raw.get(k, "") for k in USER_COLUMNS if k != "email"})
    pharmacy = PharmacyForm({k: raw.get(k, "") for k in PHARMACY_COLUMNS})
    try:
        row.email = _email_field.clean(row.email)
    except ValidationError as exc:
        row.add("email", " ".join(exc.messages))
    for form in (person, pharmacy):
        if not form.is_valid():
            for name, messages in form.errors.items():
                row.add(name, " ".join(messages))
    if not row.problems:
        row.profile = person.cleaned_data
        row.pharmacy = pharmacy.cleaned_data
    return row


_email_field = User._meta.get_field("email").formfield()


def _check_duplicates(rows: list[Row]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if not row.email or row.problems:
            continue
        if row.email in seen:
            row.add("email", _("also on line %(line)s; one pharmacy per titulaire.") % {"line": seen[row.email]})
        else:
            seen[row.email] = row.number


def _check_against_the_portal(rows: list[Row]) -> None:
    """What the portal already holds for the valid rows: their jobs (a re-run), and titulaires who cannot get an account."""
    valid = [row for row in rows if not row.problems]
    jobs = {}
    users = {}
    refusals = {}
    for start in range(0, len(valid), 1000):
        chunk = valid[start : start + 1000]
        jobs.update((j.idempotency_key, j) for j in Job.objects.filter(idempotency_key__in=[r.idempotency_key for r in chunk]))
        found = list(User.objects.filter(email__in=[r.email for r in chunk]))
        users.update((u.email.lower(), u) for u in found)
        refusals.update(services.account_refusals(found))
    for row in valid:
        row.existing_job = jobs.get(row.idempotency_key)
        user = users.get(row.email)
        if row.existing_job is None and user is not None and user.pk in refusals:
            row.add("email", refusals[user.pk])


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
