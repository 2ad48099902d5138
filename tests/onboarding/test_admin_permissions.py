"""Admin: every action and view that changes state needs the matching change permission; view-only staff only look."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from onboarding import services as onboarding_services
from onboarding.models import Job, JobStatus
from providers import breaker
from providers.mcg import services as mcg
from providers.mobilesaude import services as mobilesaude
from providers.mobilesaude.models import IntegrationClient

pytestmark = pytest.mark.django_db


def _staff(client, email, *codenames):
    user = onboarding_services.register_staff(email=email, password="a-long-Pass-phrase-42", first_name="S")
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


@pytest.fixture
def failed_job(db):
    user = onboarding_services.register_staff(email="t@example.com", password=None, first_name="T")
    return Job.objects.create(kind="bimedoc.onboard_pharmacy", status=JobStatus.FAILED, user=user, error="refused")


def test_viewing_jobs_does_not_allow_retrying_them(client, failed_job):
    _staff(client, "viewer@example.com", "view_job")
    changelist = reverse("admin:onboarding_job_changelist")
    assert "retry_jobs" not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "retry_jobs", "_selected_action": [failed_job.pk]})
    failed_job.refresh_from_db()
    assert failed_job.status == JobStatus.FAILED and failed_job.attempts == 0


def test_viewing_jobs_does_not_allow_settling_them(client, failed_job):
    _staff(client, "viewer@example.com", "view_job")
    response = client.post(reverse("admin:onboarding_job_settle", args=[failed_job.pk]), {"remote_pharmacy_id": "7"})
    assert response.status_code == 404
    failed_job.refresh_from_db()
    assert failed_job.status == JobStatus.FAILED


def test_viewing_outbound_calls_does_not_allow_resuming_calls(client):
    _staff(client, "viewer@example.com", "view_outboundcall")
    breaker.breaker_for("bimedoc").open()
    try:
        health = client.get(reverse("admin:onboarding_provider_health"))
        assert health.status_code == 200
        assert reverse("admin:onboarding_provider_circuit_reset", args=["bimedoc"]) not in health.content.decode()
        response = client.post(reverse("admin:onboarding_provider_circuit_reset", args=["bimedoc"]))
        assert response.status_code == 403
        assert not breaker.is_available("bimedoc")
    finally:
        breaker.reset("bimedoc")


def test_the_change_permission_on_outbound_calls_resumes_calls(client):
    _staff(client, "operator@example.com", "view_outboundcall", "change_outboundcall")
    breaker.breaker_for("bimedoc").open()
    try:
        response = client.post(reverse("admin:onboarding_provider_circuit_reset", args=["bimedoc"]))
        assert response.status_code == 302
        assert breaker.is_available("bimedoc")
    finally:
        breaker.reset("bimedoc")


def test_the_health_page_needs_the_view_permission(client):
    _staff(client, "nobody@example.com")
    assert client.get(reverse("admin:onboarding_provider_health")).status_code == 403


def test_viewing_integration_clients_does_not_allow_deactivating_them(client):
    integration = mobilesaude.create_client(usuario="app", password="an-app-password-long-enough")
    _staff(client, "viewer@example.com", "view_integrationclient")
    changelist = reverse("admin:mobilesaude_integrationclient_changelist")
    assert "deactivate" not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "deactivate", "_selected_action": [integration.pk]})
    assert IntegrationClient.objects.get(pk=integration.pk).is_active


def test_the_service_token_is_shown_only_to_those_who_may_change_providers(client):
    provider, _secret = mcg.create_service_provider(provider_id=11, name="Clinique", service_ids=[1])
    page = reverse("admin:mcg_serviceprovider_change", args=[provider.pk])
    _staff(client, "viewer@example.com", "view_serviceprovider")
    viewed = client.get(page)
    assert viewed.status_code == 200
    assert str(provider.service_token) not in viewed.content.decode()
    assert "Clinique" in viewed.content.decode()
    _staff(client, "editor@example.com", "view_serviceprovider", "change_serviceprovider")
    assert str(provider.service_token) in client.get(page).content.decode()
