"""Background work on a real Celery worker over Redis, enqueued only after the database commit."""

import re
import time

import pytest
from django.db import transaction

from onboarding import services

pytestmark = pytest.mark.worker


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def sent_mail(mail_dir):
    return "".join(p.read_text() for p in sorted(mail_dir.glob("*.log")))


def test_password_reset_email_is_built_by_the_worker_and_the_broker_never_sees_the_link(
    celery_worker, worker_mail_dir, client, live_server
):
    from celery.signals import before_task_publish

    published = []

    def capture(body=None, headers=None, **kwargs):
        published.append(repr((headers, body)))

    before_task_publish.connect(capture, weak=False)
    try:
        services.register_staff(email="reset.me@example.com", password="pw-123456789")
        response = client.post("/accounts/password/reset/", {"email": "reset.me@example.com"})
        assert response.status_code == 302
        text = wait_for(lambda: "reset.me@example.com" in sent_mail(worker_mail_dir) and sent_mail(worker_mail_dir))
    finally:
        before_task_publish.disconnect(capture)
    assert "To: reset.me@example.com" in text
    link = re.search(r"https?://\S+/accounts/password/reset/key/(\S+?)/", text)
    assert link.group(0).startswith(live_server.url)  # PUBLIC_BASE_URL of the worker
    (message,) = [m for m in published if "send_password_reset" in m]
    assert link.group(1) not in message and "/accounts/" not in message


def test_nothing_is_enqueued_when_the_transaction_rolls_back(celery_worker, worker_mail_dir):
    from onboarding.emails import send_later

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        send_later(to=["rolled.back@example.com"], subject="never", body="never")
        raise Abort
    send_later(to=["committed@example.com"], subject="after", body="after the rollback")
    assert wait_for(lambda: "committed@example.com" in sent_mail(worker_mail_dir))
    assert "rolled.back@example.com" not in sent_mail(worker_mail_dir)
