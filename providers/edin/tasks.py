"""Celery tasks for EDIN: thin wrappers over services."""

from celery import shared_task

from onboarding.audit import audit_context
from onboarding.models import ProviderAccount
from providers.http import RetryableError, RetryPolicy

from . import services
from .conf import conf


def retry_policy() -> RetryPolicy:
    return RetryPolicy(max_retries=conf.VERIFY_MAX_RETRIES, base_delay=conf.VERIFY_RETRY_DELAY, max_delay=300.0)


@shared_task(bind=True, name="providers.edin.tasks.verify_connection")
def verify_connection(self, account_id: int, requested_by_id: int | None = None) -> str:
    """Check a pharmacy's EDIN credentials by a real login; retry with backoff while EDIN is unreachable."""
    pharmacy_id = ProviderAccount.objects.filter(pk=account_id).values_list("pharmacy_id", flat=True).first()
    if pharmacy_id is None:
        return "gone"
    attempt = self.request.retries + 1
    with audit_context(pharmacy=pharmacy_id, user=requested_by_id, task_id=self.request.id or "", attempt=attempt):
        try:
            account = services.verify(account_id)
        except RetryableError as exc:
            policy = retry_policy()
            if policy.exhausted(attempt):
                services.mark_unreachable(account_id)
                return "unreachable"
            raise self.retry(exc=exc, countdown=policy.delay(attempt)) from exc
    return account.status if account else "gone"
