"""Bulk onboarding from Django admin: receive a CSV upload, start its rows in the background, report the progress.

The rows are validated by ``bulk`` (the same service as ``import_pharmacies``).
Nothing starts while any row is invalid. Starting is a job of its own
(``bimedoc.start_bulk_upload``, run by the job engine, whose sweep takes it up
if its task is lost), one row after another (``bulk.onboard``: the same
idempotency key per row, so a second upload of the same file skips what is
done and resumes what failed).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from onboarding import jobs as engine
from onboarding.models import Job, JobStatus, User

from . import bulk
from .conf import conf
from .models import BulkUpload, BulkUploadRow, RowOutcome, UploadStatus
from .selectors import KIND_START_UPLOAD

logger = logging.getLogger(__name__)

BATCH = 1000
# Row states shown on the progress page: a row's job status once it has one, else its outcome.
FINAL_STATES = (*Job.FINAL_STATUSES, RowOutcome.REFUSED)


_problem = dataclasses.asdict  # a bulk.Problem as stored: {"line", "column", "message"}


def receive(uploaded_file, *, by: User) -> BulkUpload:
    """Store the upload with every row's problems; when there are none, start its rows (in the background)."""
    name = (getattr(uploaded_file, "name", "") or "upload.csv")[:255]
    size = uploaded_file.size
    digest = ""
    try:
        if size > conf.BULK_UPLOAD_MAX_BYTES:  # refused unread
            message = _("The file is too large (%(size)s bytes; at most %(max)s): split it into smaller files.") % {
                "size": size,
                "max": conf.BULK_UPLOAD_MAX_BYTES,
            }
            raise bulk.FileError([bulk.Problem(None, "", message)])
        data = uploaded_file.read()
        digest = hashlib.sha256(data).hexdigest()
        rows = bulk.parse(data)
    except bulk.FileError as exc:
        return BulkUpload.objects.create(
            uploaded_by=by,
            file_name=name,
            size=size,
            sha256=digest,
            status=UploadStatus.INVALID,
            problems=[_problem(p) for p in exc.problems],
        )
    invalid = any(row.problems for row in rows)
    with transaction.atomic():
        upload = BulkUpload.objects.create(
            uploaded_by=by,
            file_name=name,
            size=size,
            sha256=digest,
            status=UploadStatus.INVALID if invalid else UploadStatus.STARTING,
            row_count=len(rows),
            problems=[_problem(p) for row in rows for p in row.problems],
        )
        BulkUploadRow.objects.bulk_create(
            [_stored_row(upload, row, invalid) for row in rows],
            batch_size=BATCH,
        )
        if not invalid:
            # A job of its own: the engine runs it after the commit, and its sweep takes it up if it is lost.
            engine.create(
                KIND_START_UPLOAD, requested_by=by, idempotency_key=f"bulk-upload:{upload.pk}", payload={"upload_id": upload.pk}
            )
    return upload


def _stored_row(upload: BulkUpload, row: bulk.Row, held: bool) -> BulkUploadRow:
    if row.problems:
        outcome = RowOutcome.INVALID
    elif held:
        outcome = RowOutcome.HELD
    else:
        outcome = RowOutcome.QUEUED
    return BulkUploadRow(
        upload=upload,
        line=row.number,
        email=row.email[:254],
        pharmacy_name=(row.pharmacy.get("name") or "")[:200],
        data={"profile": row.profile, "pharmacy": row.pharmacy} if outcome == RowOutcome.QUEUED else {},
        outcome=outcome,
        problems=[_problem(p) for p in row.problems],
    )


def start(upload_id: int) -> int:
    """Start the upload's rows that wait (safe to run twice: each row is taken once, and onboarding is idempotent)."""
    handled = 0
    while True:
        with transaction.atomic():
            stored = (
                BulkUploadRow.objects.select_for_update(skip_locked=True)
                .filter(upload_id=upload_id, outcome=RowOutcome.QUEUED)
                .order_by("line")
                .first()
            )
            if stored is None:
                break
            row = bulk.Row(
                number=stored.line,
                email=stored.email,
                profile=stored.data.get("profile", {}),
                pharmacy=stored.data.get("pharmacy", {}),
            )
            try:
                outcome, job = bulk.onboard(row)
            except ValidationError as exc:
                # Something changed since the upload was checked (e.g. the titulaire got an account meanwhile).
                stored.outcome = RowOutcome.REFUSED
                stored.problems = [{"line": stored.line, "column": "email", "message": m} for m in exc.messages]
            else:
                stored.outcome = outcome
                stored.job = job
            stored.save(update_fields=["outcome", "problems", "job"])
            handled += 1
    BulkUpload.objects.filter(pk=upload_id, status=UploadStatus.STARTING).update(
        status=UploadStatus.STARTED, started_at=timezone.now()
    )
    return handled


def row_state(row: BulkUploadRow) -> str:
    """What the progress page shows for a row: its job's status once it has one, else its outcome."""
    return row.job.status if row.job_id else row.outcome


def state_labels() -> dict[str, str]:
    labels = {value: str(label) for value, label in RowOutcome.choices}
    labels.update({value: str(label) for value, label in JobStatus.choices})
    return labels


def progress(upload: BulkUpload) -> dict:
    """Counts of the upload's rows per state, and how many are final (one query)."""
    counts: dict[str, int] = {}
    for entry in upload.rows.values("outcome", "job__status").annotate(n=Count("id")):
        state = entry["job__status"] or entry["outcome"]
        counts[state] = counts.get(state, 0) + entry["n"]
    total = sum(counts.values())
    final = sum(n for state, n in counts.items() if state in FINAL_STATES)
    if upload.status == UploadStatus.INVALID:
        final = total
    return {
        "status": upload.status,
        "status_display": str(upload.get_status_display()),
        "total": total,
        "final": final,
        "percent": round(100 * final / total) if total else 100,
        "is_final": upload.status == UploadStatus.INVALID or (upload.status == UploadStatus.STARTED and final == total),
        "counts": counts,
    }
