"""Writes the audit trail of outbound calls, with who asked, for which pharmacy, from which job or task."""

from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace

from providers.http import CallRecord


@dataclass(frozen=True)
class AuditContext:
    user_id: int | None = None
    pharmacy_id: int | None = None
    job_id: int | None = None
    task_id: str = ""
    correlation_id: str = ""
    attempt: int = 1


_context: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("audit_context", default=AuditContext())  # noqa: B039 - frozen


def current_context() -> AuditContext:
    return _context.get()


@contextmanager
def audit_context(*, user=None, pharmacy=None, job=None, task_id=None, correlation_id=None, attempt=None):
    """Attach who/what/why to every call recorded inside the block (nested blocks inherit)."""
    parent = _context.get()
    changes = {}
    if user is not None:
        changes["user_id"] = getattr(user, "pk", user)
    if pharmacy is not None:
        changes["pharmacy_id"] = getattr(pharmacy, "pk", pharmacy)
    if job is not None:
        changes["job_id"] = getattr(job, "pk", job)
        changes["correlation_id"] = correlation_id or str(getattr(job, "public_id", "") or parent.correlation_id)
    if task_id is not None:
        changes["task_id"] = task_id or ""
    if correlation_id is not None:
        changes["correlation_id"] = correlation_id
    if attempt is not None:
        changes["attempt"] = attempt
    new = replace(parent, **changes)
    if not new.correlation_id:
        new = replace(new, correlation_id=uuid.uuid4().hex)
    token = _context.set(new)
    try:
        yield new
    finally:
        _context.reset(token)


class _CallRecorder:
    """The portal's recorder: one append-only OutboundCall row per call, written ahead of sending.

    ``start()`` inserts the row (outcome ``in_flight``) before the request leaves;
    ``finish()`` completes that row once, with a conditional update that only
    matches a row still ``in_flight``. A row left ``in_flight`` is a call whose
    process stopped before the answer was known. Called directly, it records a
    call that was never sent (circuit open) or an answer found unreadable.
    """

    def __call__(self, record: CallRecord) -> None:
        self._insert(record)

    def start(self, record: CallRecord) -> int:
        return self._insert(record).pk

    def finish(self, handle: int, record: CallRecord) -> None:
        from .models import CallOutcome, OutboundCall

        OutboundCall.objects.filter(pk=handle, outcome=CallOutcome.IN_FLIGHT).update(
            status_code=record.status_code,
            duration_ms=record.duration_ms,
            outcome=record.outcome,
            response_excerpt=record.response_excerpt,
            error=record.error,
        )

    def _insert(self, record: CallRecord):
        from .models import OutboundCall

        ctx = _context.get()
        return OutboundCall.objects.create(
            provider=record.provider,
            operation=record.operation,
            method=record.method,
            path=record.path[:500],
            status_code=record.status_code,
            duration_ms=record.duration_ms,
            outcome=record.outcome,
            request_excerpt=record.request_excerpt,
            response_excerpt=record.response_excerpt,
            error=record.error,
            attempt=ctx.attempt,
            correlation_id=ctx.correlation_id,
            user_id=ctx.user_id,
            pharmacy_id=ctx.pharmacy_id,
            job_id=ctx.job_id,
            task_id=ctx.task_id,
        )


record_call = _CallRecorder()
