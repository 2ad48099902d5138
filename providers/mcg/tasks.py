"""Celery tasks (queue ``delivery``): thin wrappers around services."""

from celery import shared_task
from django.conf import settings

from providers.http import RetryableError

from . import services


@shared_task(bind=True, max_retries=None)
def deliver_item(self, item_id: int):
    """Deliver one inbox item over its channel, retrying with growing delays while the failure may pass."""
    attempt = self.request.retries + 1
    final = attempt >= settings.DELIVERY_MAX_ATTEMPTS
    try:
        services.deliver_item(item_id, attempt=attempt, final=final, task_id=self.request.id or "")
    except RetryableError as exc:
        raise self.retry(exc=exc, countdown=settings.DELIVERY_RETRY_DELAY * 2 ** (attempt - 1))


@shared_task
def purge_expired_revocations():
    return services.purge_expired_revocations()
