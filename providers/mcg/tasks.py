"""Celery tasks (queue ``delivery``): thin wrappers around services."""

from celery import shared_task
from django.conf import settings

from providers.http import RetryableError, RetryPolicy

from . import services


def delivery_retry_policy() -> RetryPolicy:
    """DELIVERY_MAX_ATTEMPTS tries in all, the wait doubling from DELIVERY_RETRY_DELAY seconds (with jitter)."""
    return RetryPolicy(max_retries=settings.DELIVERY_MAX_ATTEMPTS - 1, base_delay=settings.DELIVERY_RETRY_DELAY)


@shared_task(bind=True, max_retries=None)
def deliver_item(self, item_id: int):
    """Deliver one inbox item over its channel, retrying with growing delays while the failure may pass."""
    policy = delivery_retry_policy()
    attempt = self.request.retries + 1
    final = policy.exhausted(attempt)
    try:
        services.deliver_item(item_id, attempt=attempt, final=final, task_id=self.request.id or "")
    except RetryableError as exc:
        raise self.retry(exc=exc, countdown=policy.delay(attempt))


@shared_task
def purge_expired_revocations():
    return services.purge_expired_revocations()
