"""The connection check run by a real Celery worker, reaching the sandbox over HTTP."""

from __future__ import annotations

import time

import pytest

from onboarding.models import AccountStatus, OutboundCall
from providers.edin import services

from .conftest import EDIN_EMAIL, EDIN_PASSWORD


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.timeout(90)
def test_a_worker_verifies_the_connection_by_a_real_login(celery_worker, pharmacy, titulaire, edin_url):
    account = services.connect(pharmacy=pharmacy, email=EDIN_EMAIL, password=EDIN_PASSWORD, requested_by=titulaire)
    assert account.status == AccountStatus.PENDING

    assert wait_for(lambda: services.edin_account(pharmacy).status != AccountStatus.PENDING)

    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.secrets["sid"]
    calls = list(OutboundCall.objects.filter(provider="edin").order_by("pk"))
    assert [c.operation for c in calls] == ["login_token", "login"]
    assert all(c.task_id and c.pharmacy_id == pharmacy.pk and c.user_id == titulaire.pk for c in calls)


@pytest.mark.timeout(90)
def test_a_worker_reports_wrong_credentials(celery_worker, pharmacy, adjoint, edin_url):
    services.connect(pharmacy=pharmacy, email=EDIN_EMAIL, password="wrong-Password-7", requested_by=adjoint)

    assert wait_for(lambda: services.edin_account(pharmacy).status != AccountStatus.PENDING)

    assert services.connection_state(services.edin_account(pharmacy)).code == "wrong_credentials"
