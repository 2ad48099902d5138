"""A pharmacy the portal has but Bimedoc does not: its titulaire puts it there with one button (the wizard's job)."""

import pytest
from django.urls import reverse

from onboarding import services as onboarding_services
from onboarding.models import Function, Job, JobStatus
from providers.bimedoc import services

from .conftest import make_staff
from .test_pharmacy_page import onboarded


@pytest.fixture
def local_pharmacy(bimedoc_sandbox):
    titulaire = make_staff("claire@example.com")
    pharmacy = onboarding_services.create_pharmacy(titulaire=titulaire, name="Pharmacie du Port", city="Brest")
    return titulaire, pharmacy


def test_titulaire_sees_the_button_and_it_starts_the_wizards_job(client, local_pharmacy):
    titulaire, pharmacy = local_pharmacy
    client.force_login(titulaire)
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert "This pharmacy is not on Bimedoc." in page and 'id="put-on-bimedoc"' in page
    response = client.post(reverse("bimedoc-put-on", args=[pharmacy.public_id]))
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("onboarding-job", args=[job.public_id])
    job.refresh_from_db()
    assert job.kind == services.KIND_ONBOARD and job.status == JobStatus.SUCCEEDED, job.error
    assert job.pharmacy == pharmacy and job.user == titulaire
    assert services.pharmacy_account(pharmacy).is_active
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert 'id="open-bimedoc"' in page and 'id="put-on-bimedoc"' not in page


def test_asking_twice_starts_one_job(client, local_pharmacy):
    titulaire, pharmacy = local_pharmacy
    client.force_login(titulaire)
    client.post(reverse("bimedoc-put-on", args=[pharmacy.public_id]))
    client.post(reverse("bimedoc-put-on", args=[pharmacy.public_id]))
    assert Job.objects.count() == 1


def test_after_the_wizards_job_stopped_the_button_answers_with_that_job(client, local_pharmacy):
    titulaire, pharmacy = local_pharmacy
    stopped = Job.objects.create(
        kind=services.KIND_ONBOARD,
        pharmacy=pharmacy,
        user=titulaire,
        requested_by=titulaire,
        status=JobStatus.FAILED,
        idempotency_key="wizard:an-earlier-try",
    )
    client.force_login(titulaire)
    assert 'id="put-on-bimedoc"' not in client.get(pharmacy.get_absolute_url()).content.decode()
    response = client.post(reverse("bimedoc-put-on", args=[pharmacy.public_id]))
    assert response["Location"] == reverse("onboarding-job", args=[stopped.public_id])
    assert list(Job.objects.all()) == [stopped]


def test_an_adjoint_has_no_button_and_is_refused(client, local_pharmacy):
    _titulaire, pharmacy = local_pharmacy
    adjoint = make_staff("lucas@example.com")
    onboarding_services.add_member(pharmacy=pharmacy, user=adjoint, function=Function.ADJOINT)
    client.force_login(adjoint)
    assert 'id="put-on-bimedoc"' not in client.get(pharmacy.get_absolute_url()).content.decode()
    assert client.post(reverse("bimedoc-put-on", args=[pharmacy.public_id])).status_code == 403
    assert not Job.objects.exists()


def test_someone_elses_pharmacy_is_not_found(client, local_pharmacy):
    _titulaire, pharmacy = local_pharmacy
    client.force_login(make_staff("mallory@example.com"))
    assert client.post(reverse("bimedoc-put-on", args=[pharmacy.public_id])).status_code == 404
    assert not Job.objects.exists()


def test_the_button_needs_post(client, local_pharmacy):
    titulaire, pharmacy = local_pharmacy
    client.force_login(titulaire)
    assert client.get(reverse("bimedoc-put-on", args=[pharmacy.public_id])).status_code == 405


def test_an_unverified_address_is_asked_to_verify_first(client, bimedoc_sandbox):
    titulaire = onboarding_services.register_staff(email="new@example.com", password="x-long-Pass-phrase-42", first_name="N")
    pharmacy = onboarding_services.create_pharmacy(titulaire=titulaire, name="Pharmacie Neuve")
    client.force_login(titulaire)
    response = client.post(reverse("bimedoc-put-on", args=[pharmacy.public_id]))
    assert response.status_code == 403 and not Job.objects.exists()


def test_a_titulaire_already_on_bimedoc_elsewhere_is_told_why_not(client, bimedoc_sandbox):
    titulaire, _first = onboarded()
    second = onboarding_services.create_pharmacy(titulaire=titulaire, name="Pharmacie Deux")
    client.force_login(titulaire)
    page = client.get(second.get_absolute_url()).content.decode()
    assert 'id="put-on-bimedoc"' not in page and "already has a Bimedoc account" in page
    response = client.post(reverse("bimedoc-put-on", args=[second.public_id]), follow=True)
    assert "already has a Bimedoc account" in response.content.decode()
    assert Job.objects.count() == 1
