"""Fixtures for the Bimedoc tests: the sandbox over real HTTP, staff and pharmacies built through services."""

import pytest
import requests

from onboarding import services as onboarding_services
from providers.bimedoc.client import BimedocClient
from providers.bimedoc.conf import conf as bimedoc_conf
from providers.sandbox import faults

PASSWORD = "a-long-Pass-phrase-42"


@pytest.fixture
def bimedoc_sandbox(live_server, settings, transactional_db):
    """Point the portal at the sandbox served by the live server; yield the sandbox's base URL."""
    settings.SANDBOX_URL = f"{live_server.url}/sandbox"
    settings.BIMEDOC_BASE_URL = f"{live_server.url}/sandbox/bimedoc"
    settings.BIMEDOC_APP_URL = f"{live_server.url}/sandbox/bimedoc-app"
    settings.BIMEDOC_RETRY_DELAY = 0
    settings.PROVIDER_CONNECT_TIMEOUT = 2.0
    settings.PROVIDER_READ_TIMEOUT = 5.0
    yield bimedoc_conf.BASE_URL
    faults.set_profile("bimedoc", None)
    # Close kept-alive connections, or the live server's threads keep database sessions open.
    _close_cached_clients()


def _close_cached_clients():
    from providers.bimedoc import services

    services.close_clients()


@pytest.fixture
def sandbox_state(bimedoc_sandbox):
    """Read what the simulated Bimedoc holds (users, pharmacies, duplicates)."""
    return lambda: requests.get(f"{bimedoc_sandbox}/_state", timeout=5).json()


@pytest.fixture
def records():
    return []


@pytest.fixture
def sandbox_client(bimedoc_sandbox, settings, records):
    """A client on the sandbox that keeps its call records in a list."""
    client = BimedocClient(
        base_url=bimedoc_sandbox,
        partner_id=bimedoc_conf.PARTNER_ID,
        api_key=bimedoc_conf.API_KEY,
        recorder=records.append,
        timeout=(2.0, 5.0),
    )
    yield client
    client.transport.session.close()


def make_staff(email="claire@example.com", **extra):
    profile = {
        "first_name": "Claire",
        "last_name": "Dupont",
        "mobile_number": "+33612345678",
        "rpps_number": "10101234567",
        "gender": "f",
    }
    profile.update(extra)
    return onboarding_services.register_staff(email=email, password=PASSWORD, email_verified=True, **profile)


@pytest.fixture
def staff():
    return make_staff()
