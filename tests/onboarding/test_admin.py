import pytest
from django.urls import reverse

from onboarding import services
from onboarding.audit import record_call
from onboarding.models import OutboundCall, Provider, ProviderAccount, User
from providers.http import CallRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser(email="root@example.com", password="pw-123456789")
    client.force_login(admin)
    return client


@pytest.fixture
def pharmacy():
    titulaire = services.register_staff(email="t@example.com", password=None)
    pharmacy = services.create_pharmacy(titulaire=titulaire, name="Pharmacie Admin")
    ProviderAccount.objects.create(
        provider=Provider.EDIN,
        pharmacy=pharmacy,
        login="edin@example.com",
        secrets={"password": "edin-password-xyz", "sid": "SID-SECRET-1"},
    )
    return pharmacy


@pytest.mark.parametrize("model", ["user", "pharmacy", "membership", "provideraccount", "job", "outboundcall"])
def test_every_changelist_renders_and_searches(admin_client, pharmacy, model):
    url = reverse(f"admin:onboarding_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "Pharmacie"}).status_code == 200


def test_provider_account_page_never_shows_its_secrets(admin_client, pharmacy):
    account = ProviderAccount.objects.get()
    body = admin_client.get(reverse("admin:onboarding_provideraccount_change", args=[account.pk])).content.decode()
    assert "edin@example.com" in body
    assert "edin-password-xyz" not in body and "SID-SECRET-1" not in body


def test_audit_trail_is_read_only_in_admin(admin_client, pharmacy):
    record_call(
        CallRecord(
            provider="edin",
            operation="login",
            method="POST",
            path="/bdoc/auth",
            status_code=200,
            duration_ms=12.5,
            outcome="success",
        )
    )
    call = OutboundCall.objects.get()
    change_url = reverse("admin:onboarding_outboundcall_change", args=[call.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    admin_client.post(change_url, {"status_code": 500})
    call.refresh_from_db()
    assert call.status_code == 200
    assert admin_client.get(reverse("admin:onboarding_outboundcall_add")).status_code == 403
    assert admin_client.get(reverse("admin:onboarding_outboundcall_delete", args=[call.pk])).status_code == 403


def test_pharmacy_admin_links_to_its_calls_jobs_and_accounts(admin_client, pharmacy):
    body = admin_client.get(reverse("admin:onboarding_pharmacy_change", args=[pharmacy.pk])).content.decode()
    assert f"pharmacy__id__exact={pharmacy.pk}" in body
    assert reverse("admin:onboarding_outboundcall_changelist") in body
    assert reverse("admin:onboarding_job_changelist") in body
