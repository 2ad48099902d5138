"""load_demo puts the demo pharmacy, its titulaire and its adjoint on Bimedoc through the real jobs, before any server."""

from io import StringIO

import pytest
from django.core.management import call_command

from onboarding.models import Job, JobStatus, OutboundCall, Pharmacy, User
from providers.bimedoc import services as bimedoc
from providers.sandbox.bimedoc.models import RemotePharmacy, RemoteUser

# Nothing listens there: every sandbox call must be answered in-process.
NO_SERVER = "http://127.0.0.1:9/sandbox"


@pytest.fixture
def no_server(settings, transactional_db):
    settings.DEBUG = True  # as make run sets
    settings.SANDBOX_URL = NO_SERVER
    settings.BIMEDOC_BASE_URL = f"{NO_SERVER}/bimedoc"
    settings.BIMEDOC_APP_URL = f"{NO_SERVER}/bimedoc-app"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:18401"
    yield
    bimedoc.close_clients()


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_demo_pharmacy_is_on_bimedoc_with_its_titulaire_and_adjoint(no_server):
    output = load_demo()
    pharmacy = Pharmacy.objects.get(name="Pharmacie de la Gare (demo)")
    titulaire = User.objects.get(email="titulaire@demo.example")
    adjoint = User.objects.get(email="adjoint@demo.example")
    assert bimedoc.pharmacy_account(pharmacy).is_active
    assert bimedoc.is_linked(titulaire, pharmacy) and bimedoc.is_linked(adjoint, pharmacy)
    kinds = sorted(Job.objects.filter(status=JobStatus.SUCCEEDED).values_list("kind", flat=True))
    assert kinds == [bimedoc.KIND_ADD_COLLEAGUE, bimedoc.KIND_ONBOARD]
    # The sandbox holds what the jobs created, and every call went through the audited client.
    remote = RemotePharmacy.objects.get(pk=bimedoc.pharmacy_account(pharmacy).remote_id)
    assert set(remote.users.values_list("email", flat=True)) == {"titulaire@demo.example", "adjoint@demo.example"}
    assert set(OutboundCall.objects.values_list("operation", "outcome")) == {
        ("create_user", "success"),
        ("create_pharmacy", "success"),
    }
    assert "is on Bimedoc (sandbox) with its titulaire and adjoint" in output
    assert "http://127.0.0.1:18401/accounts/login/" in output
    assert f"http://127.0.0.1:18401{pharmacy.get_absolute_url()}" in output
    assert 'Click "Open Bimedoc"' in output


def test_load_demo_twice_starts_nothing_again(no_server):
    load_demo()
    output = load_demo()
    assert Job.objects.count() == 2 and RemoteUser.objects.count() == 2
    assert 'Click "Open Bimedoc"' in output


def test_the_in_process_sandbox_is_unmounted_afterwards(no_server):
    load_demo()
    session = bimedoc.client().transport.session
    assert not any(prefix.startswith(NO_SERVER) for prefix in session.adapters)


def test_a_demo_whose_bimedoc_set_up_failed_is_retried_by_the_next_load_demo(no_server, settings):
    settings.BIMEDOC_BASE_URL = "http://127.0.0.1:9/elsewhere"  # not the sandbox: called over HTTP, refused
    settings.BIMEDOC_MAX_RETRIES = 0
    output = load_demo()
    pharmacy = Pharmacy.objects.get(name="Pharmacie de la Gare (demo)")
    assert not bimedoc.pharmacy_account(pharmacy).is_active
    assert "Put the pharmacy on Bimedoc" in output
    settings.BIMEDOC_BASE_URL = f"{NO_SERVER}/bimedoc"
    output = load_demo()
    assert bimedoc.pharmacy_account(pharmacy).is_active and Job.objects.filter(kind=bimedoc.KIND_ONBOARD).count() == 1
    assert 'Click "Open Bimedoc"' in output
