"""The admin speaks the domain: app and model names in every language, the onboarding overview, readable health charts."""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone, translation

from onboarding import services
from onboarding.models import Job, JobStatus, OutboundCall, User

pytestmark = pytest.mark.django_db

LANGUAGES = ("fr", "pt-br", "uk", "es")


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(email="root@example.com", password="pw-123456789"))
    return client


def test_the_index_names_apps_and_models_in_the_domains_words(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    for name in ("Service providers", "Mobile Saúde", "Sandbox: Bimedoc", "Pharmacies and staff",
                 "Pharmacies on the sandbox", "Users on the sandbox", "Bulk onboarding uploads"):  # fmt: skip
        assert name in page, name
    for raw in ("MCG", "MOBILESAUDE", "SANDBOX_BIMEDOC", "Sandbox_Bimedoc", "Mobilesaude", "Mcg", "pharmacys"):
        assert not re.search(rf">\s*{raw}\s*<", page, re.IGNORECASE if raw == "pharmacys" else 0), raw
    assert "Pharmacy portal administration" in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_app_and_model_names_are_translated(language):
    labels = ["mcg", "sandbox_bimedoc", "sandbox_edin", "sandbox_gateway", "bimedoc"]
    with translation.override("en"):
        english = {label: str(apps.get_app_config(label).verbose_name) for label in labels}
        models = {
            m: str(apps.get_model(m)._meta.verbose_name_plural) for m in ("sandbox_bimedoc.RemotePharmacy", "bimedoc.BulkUpload")
        }
    with translation.override(language):
        for label in labels:
            name = str(apps.get_app_config(label).verbose_name)
            assert name and (name != english[label] or label == "bimedoc"), (language, label)
        for model, plural in models.items():
            assert str(apps.get_model(model)._meta.verbose_name_plural) != plural, (language, model)


def make_job(status, error="", age=timedelta(0)):
    job = Job.objects.create(kind="bimedoc.onboard_pharmacy", status=status, error=error)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - age, updated_at=timezone.now() - age)
    return job


def test_the_overview_counts_jobs_per_state_and_lists_what_needs_attention_first(admin_client):
    make_job(JobStatus.SUCCEEDED)
    make_job(JobStatus.SUCCEEDED, age=timedelta(days=3))
    make_job(JobStatus.SUCCEEDED, age=timedelta(days=10))  # outside both windows
    failed = make_job(JobStatus.FAILED, "Bimedoc refused some details: Postcode")
    stuck = make_job(JobStatus.NEEDS_ATTENTION, "Bimedoc did not confirm the creation of the pharmacy.", age=timedelta(days=2))
    page = admin_client.get(reverse("admin:index")).content.decode()
    overview = page[page.index('id="onboarding-overview"') : page.index('id="content-main"')]
    done = re.search(r'data-status="succeeded">.*?<td class="num">(\d+)</td><td class="num">(\d+)</td>', overview, re.S)
    assert done.groups() == ("1", "2")
    assert "1 job needs attention" in overview
    items = re.findall(r'<li class="attention-(\w+)"><a href="([^"]+)"', overview)
    assert items == [
        ("needs_attention", reverse("admin:onboarding_job_change", args=[stuck.pk])),
        ("failed", reverse("admin:onboarding_job_change", args=[failed.pk])),
    ]
    assert "Bimedoc did not confirm the creation of the pharmacy." in overview and "Postcode" in overview


def test_the_overview_says_when_nothing_needs_attention(admin_client):
    assert "Nothing needs attention" in admin_client.get(reverse("admin:index")).content.decode()


def test_staff_who_may_not_see_jobs_get_no_overview(client):
    clerk = services.register_staff(email="clerk@example.com", password=None)
    User.objects.filter(pk=clerk.pk).update(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_pharmacy"))
    client.force_login(clerk)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="onboarding-overview"' not in page and "Pharmacies" in page


def test_a_health_chart_with_one_call_draws_a_point(admin_client):
    OutboundCall.objects.create(
        provider="bimedoc", operation="op", method="POST", path="/x", status_code=201, outcome="success", duration_ms=42.0
    )
    page = admin_client.get(reverse("admin:onboarding_provider_health")).content.decode()
    assert page.count('<circle class="dot"') == 4  # success rate, p50, p95, p99
