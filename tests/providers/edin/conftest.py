"""Fixtures for the EDIN tests: the sandbox on the live server, a recording client, pharmacies with staff."""

from __future__ import annotations

import pytest
import requests

from onboarding.services import add_member, create_pharmacy, register_staff
from providers.edin.client import EdinClient
from providers.edin.conf import conf as edin_conf
from providers.sandbox.edin.state import KNOWN_ACCOUNTS

EDIN_EMAIL = "apteka@edin.test"
EDIN_PASSWORD = KNOWN_ACCOUNTS[EDIN_EMAIL]["password"]
STAFF_PASSWORD = "a-long-Pass-phrase-42"


class Sandbox:
    """Drives the simulated EDIN over HTTP, as any process could."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.root = base_url.rsplit("/", 1)[0]

    def control(self, **values):
        response = requests.put(f"{self.base_url}/_control", json=values, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def add_account(self, email, password, **extra):
        response = requests.post(f"{self.base_url}/_accounts", json={"email": email, "password": password, **extra}, timeout=5)
        assert response.status_code == 201, response.text

    def end_sessions(self):
        assert requests.delete(f"{self.base_url}/_sessions", timeout=5).status_code == 204

    def sign_in_on_site(self, email, password):
        """What a person does on EDIN's own site: sign in, solving the captcha."""
        site = requests.Session()
        assert site.get(f"{self.base_url}/", timeout=5).status_code == 200
        data = {"csrfmiddlewaretoken": site.cookies["csrftoken"], "email": email, "password": password, "not_a_robot": "1"}
        response = site.post(f"{self.base_url}/", data=data, headers={"Referer": self.base_url}, timeout=5)
        assert response.status_code == 200, response.text

    def faults(self, **profile):
        response = requests.put(f"{self.root}/edin/_faults", json=profile, timeout=5)
        assert response.status_code == 200, response.text


@pytest.fixture
def edin_url(live_server, settings):
    """Point the portal at the sandbox served by the live server."""
    settings.EDIN_BASE_URL = f"{live_server.url}/sandbox/edin"
    return edin_conf.BASE_URL


@pytest.fixture
def sandbox(edin_url):
    return Sandbox(edin_url)


@pytest.fixture
def calls():
    """Every CallRecord the test's client made."""
    return []


@pytest.fixture
def edin(edin_url, calls):
    return EdinClient(edin_url, recorder=calls.append, timeout=(2.0, 5.0))


def make_staff(email, first_name="Claire"):
    return register_staff(email=email, password=STAFF_PASSWORD, email_verified=True, first_name=first_name, last_name="Test")


@pytest.fixture
def titulaire(db):
    return make_staff("titulaire@example.com")


@pytest.fixture
def pharmacy(titulaire):
    return create_pharmacy(titulaire=titulaire, name="Pharmacie du Centre", city="Lyon", postcode="69001")


@pytest.fixture
def adjoint(pharmacy):
    user = make_staff("adjoint@example.com", "Adam")
    add_member(pharmacy=pharmacy, user=user, function="adjoint")
    return user


@pytest.fixture
def stagiaire(pharmacy):
    user = make_staff("stagiaire@example.com", "Sami")
    add_member(pharmacy=pharmacy, user=user, function="stagiaire")
    return user


@pytest.fixture
def outsider(db):
    """The titulaire of another pharmacy."""
    user = make_staff("other@example.com", "Olga")
    create_pharmacy(titulaire=user, name="Autre pharmacie")
    return user
