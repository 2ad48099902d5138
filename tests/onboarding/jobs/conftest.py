"""Fixtures for the job engine's tests: the Bimedoc sandbox over real HTTP (shared with the Bimedoc tests)."""

import pytest

from providers import breaker
from tests.providers.bimedoc.conftest import bimedoc_sandbox, sandbox_state  # noqa: F401 - fixtures


@pytest.fixture
def admin_client(client, db):
    from onboarding.models import User

    admin = User.objects.create_superuser(email="root@example.com", password="pw-123456789")
    client.force_login(admin)
    client.admin = admin
    return client


@pytest.fixture(autouse=True)
def _closed_circuit():
    """Each test starts with Bimedoc's circuit closed (the breaker's state lives in Redis)."""
    breaker.reset("bimedoc")
    yield
    breaker.reset("bimedoc")


@pytest.fixture
def short_read_timeout(settings):
    """The client gives up after 0.5 s; the sandbox stalls 1.5 s on its timeout faults."""
    settings.PROVIDER_CONNECT_TIMEOUT = 2.0
    settings.PROVIDER_READ_TIMEOUT = 0.5
    return 1.5
