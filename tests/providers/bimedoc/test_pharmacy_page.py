"""The pharmacy page's Bimedoc panel: Open Bimedoc (SSO), adding colleagues, and who may do what."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.urls import reverse

from onboarding import services as onboarding_services
from onboarding.models import Job, JobStatus, OutboundCall, User
from providers.bimedoc import services
from providers.bimedoc.conf import conf as bimedoc_conf
from providers.sandbox import faults

from .conftest import make_staff

pytestmark = pytest.mark.django_db

PHARMACY = {"name": "Pharmacie du Port", "city": "Brest"}


def onboarded(email="claire@example.com", name="Pharmacie du Port"):
    """A titulaire whose pharmacy was put on Bimedoc (the sandbox) by the real job."""
    user = make_staff(email)
    job = services.start_onboarding(titulaire=user, profile={}, pharmacy_fields={"name": name}, idempotency_key=email)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return user, job.pharmacy


COLLEAGUE = {"email": "Lucas@Example.com", "first_name": "Lucas", "last_name": "Bernard", "function": "adjoint",
             "mobile_number": "", "rpps_number": "", "gender": "m"}  # fmt: skip


def test_open_bimedoc_redirects_to_the_app_with_a_fresh_sso_token(client, bimedoc_sandbox, settings):
    user, pharmacy = onboarded()
    client.force_login(user)
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert "Open Bimedoc" in page
    response = client.post(reverse("bimedoc-open", args=[pharmacy.public_id]))
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{bimedoc_conf.APP_URL}/sso/"
    query = parse_qs(location.query)
    assert query["pharmacy"] == [services.pharmacy_account(pharmacy).remote_id]
    landing = requests.get(response["Location"], timeout=5)
    assert landing.status_code == 200 and "claire@example.com" in landing.text
    call = OutboundCall.objects.get(operation="create_sso_token")
    assert call.user_id == user.pk and call.pharmacy_id == pharmacy.pk
    assert query["sso_token"][0] not in call.response_excerpt


def test_open_bimedoc_needs_post(client, bimedoc_sandbox):
    user, pharmacy = onboarded()
    client.force_login(user)
    assert client.get(reverse("bimedoc-open", args=[pharmacy.public_id])).status_code == 405


def test_members_of_one_pharmacy_can_neither_see_nor_open_another(client, bimedoc_sandbox):
    _alice, pharmacy_a = onboarded("alice@example.com", "A")
    bob, pharmacy_b = onboarded("bob@example.com", "B")
    client.force_login(bob)
    assert client.get(pharmacy_a.get_absolute_url()).status_code == 404
    assert client.post(reverse("bimedoc-open", args=[pharmacy_a.public_id])).status_code == 404
    assert client.get(reverse("bimedoc-add-colleague", args=[pharmacy_a.public_id])).status_code == 404
    assert not OutboundCall.objects.filter(operation="create_sso_token").exists()
    assert client.post(reverse("bimedoc-open", args=[pharmacy_b.public_id])).status_code == 302


def test_a_member_without_an_active_account_is_told_why(client, bimedoc_sandbox):
    _user, pharmacy = onboarded()
    member = make_staff("member@example.com")
    onboarding_services.add_member(pharmacy=pharmacy, user=member, function="adjoint")
    client.force_login(member)
    assert "Open Bimedoc" not in client.get(pharmacy.get_absolute_url()).content.decode()
    response = client.post(reverse("bimedoc-open", args=[pharmacy.public_id]), follow=True)
    assert "You do not have an active Bimedoc account yet." in response.content.decode()
    assert not OutboundCall.objects.filter(operation="create_sso_token").exists()


def test_a_provider_error_on_sso_is_shown_and_on_record(client, bimedoc_sandbox):
    user, pharmacy = onboarded()
    faults.set_profile("bimedoc", faults.FaultProfile(error_rate=1))
    client.force_login(user)
    response = client.post(reverse("bimedoc-open", args=[pharmacy.public_id]), follow=True)
    assert response.redirect_chain[-1][0] == pharmacy.get_absolute_url()
    assert "Bimedoc could not be opened" in response.content.decode()
    call = OutboundCall.objects.get(operation="create_sso_token")
    assert call.status_code == 503 and call.outcome == "server_error" and call.user_id == user.pk


@pytest.mark.parametrize(
    "change,field,message",
    [
        ({"function": "titulaire"}, "function", "valid choice"),
        ({"email": "nope"}, "email", "valid email"),
        ({"gender": "x"}, "gender", "valid choice"),
        ({"email": "claire@example.com"}, "email", "already a member"),
    ],
)
def test_colleague_form_errors(client, bimedoc_sandbox, change, field, message):
    titulaire, pharmacy = onboarded()
    client.force_login(titulaire)
    response = client.post(reverse("bimedoc-add-colleague", args=[pharmacy.public_id]), {**COLLEAGUE, **change})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Job.objects.filter(kind=services.KIND_ADD_COLLEAGUE).exists()


def test_only_the_titulaire_adds_colleagues(client, bimedoc_sandbox):
    _titulaire, pharmacy = onboarded()
    adjoint = make_staff("adjoint@example.com")
    onboarding_services.add_member(pharmacy=pharmacy, user=adjoint, function="adjoint")
    client.force_login(adjoint)
    assert client.get(reverse("bimedoc-add-colleague", args=[pharmacy.public_id])).status_code == 403
    assert client.post(reverse("bimedoc-add-colleague", args=[pharmacy.public_id]), COLLEAGUE).status_code == 403
    assert not User.objects.filter(email="lucas@example.com").exists()


def test_a_bimedoc_account_opens_only_the_pharmacy_it_was_created_in(client, bimedoc_sandbox):
    alice, _pharmacy_a = onboarded("alice@example.com", "A")
    _bob, pharmacy_b = onboarded("bob@example.com", "B")
    onboarding_services.add_member(pharmacy=pharmacy_b, user=alice, function="adjoint")
    client.force_login(alice)
    assert "Open Bimedoc" not in client.get(pharmacy_b.get_absolute_url()).content.decode()
    response = client.post(reverse("bimedoc-open", args=[pharmacy_b.public_id]), follow=True)
    assert "Your Bimedoc account belongs to another pharmacy." in response.content.decode()
    assert not OutboundCall.objects.filter(operation="create_sso_token").exists()
