"""Admin: registering a provider hands over its secret once and stores only a hash; pages render."""

import pytest

from providers.mcg.models import ServiceProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="admin@example.com", password="a-long-Pass-phrase-42")
    client.force_login(admin)
    return client


def test_adding_a_provider_in_admin_generates_credentials_shown_once(admin_client):
    response = admin_client.post(
        "/admin/mcg/serviceprovider/add/",
        {
            "provider_id": "12",
            "name": "Clinique",
            "service_ids": "[1, 2]",
            "service_token": "6f1d9c3e-8b1a-4c2e-9f3a-2d4b5c6e7f80",
            "active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    provider = ServiceProvider.objects.get(provider_id=12)
    assert provider.service_ids == [1, 2]
    messages = [str(m) for m in response.context["messages"]]
    secret = messages[0].rsplit(": ", 1)[1]
    assert provider.client_id in messages[0]
    assert provider.check_client_secret(secret)
    # Never shown again.
    page = admin_client.get(f"/admin/mcg/serviceprovider/{provider.pk}/change/").content.decode()
    assert secret not in page and provider.client_secret_hash not in page


def test_admin_pages_render(admin_client, provider_a, staff, client):
    for url in (
        "/admin/mcg/serviceprovider/",
        "/admin/mcg/servicerequest/",
        "/admin/mcg/inboxitem/",
        "/admin/mcg/deliveryattempt/",
        "/admin/mcg/revokedtoken/",
    ):
        assert admin_client.get(url).status_code == 200, url
