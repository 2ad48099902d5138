"""Admin: a provider's secret is typed once, stored only as a hash and never shown; pages render."""

import pytest

from providers.mcg.models import ServiceProvider

pytestmark = pytest.mark.django_db


# The provider form's inline of linked pharmacies, empty.
NO_LINKS = {"pharmacy_links-TOTAL_FORMS": "0", "pharmacy_links-INITIAL_FORMS": "0"}


class AdminClient:
    """The test client, adding the empty pharmacy-links inline to provider forms."""

    def __init__(self, client):
        self.client = client

    def post(self, path, data=None, **extra):
        if "/serviceprovider/" in path:
            data = {**NO_LINKS, **(data or {})}
        return self.client.post(path, data, **extra)

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="admin@example.com", password="a-long-Pass-phrase-42")
    client.force_login(admin)
    return AdminClient(client)


def test_adding_a_provider_in_admin_stores_the_typed_secret_hashed_and_never_shows_it(admin_client):
    secret = "s3cr3t-" + "Q" * 40
    data = {
        "provider_id": "12",
        "name": "Clinique",
        "service_ids": "[1, 2]",
        "service_token": "6f1d9c3e-8b1a-4c2e-9f3a-2d4b5c6e7f80",
        "active": "on",
    }
    refused = admin_client.post("/admin/mcg/serviceprovider/add/", data)
    assert "A new provider needs a client secret." in refused.content.decode()
    short = admin_client.post("/admin/mcg/serviceprovider/add/", {**data, "new_client_secret": "short"})
    assert "at least 32 characters" in short.content.decode()
    assert not ServiceProvider.objects.exists()

    response = admin_client.post("/admin/mcg/serviceprovider/add/", {**data, "new_client_secret": secret}, follow=True)
    assert response.status_code == 200
    provider = ServiceProvider.objects.get(provider_id=12)
    assert provider.service_ids == [1, 2]
    assert provider.check_client_secret(secret)
    assert secret not in response.content.decode()
    page = admin_client.get(f"/admin/mcg/serviceprovider/{provider.pk}/change/").content.decode()
    assert secret not in page and provider.client_secret_hash not in page


def test_setting_a_new_secret_in_admin_replaces_the_old_one(admin_client):
    from providers.mcg import services

    provider, old = services.create_service_provider(provider_id=13, name="Labo", service_ids=[1])
    new = "n3w-" + "Z" * 40
    admin_client.post(
        f"/admin/mcg/serviceprovider/{provider.pk}/change/",
        {
            "provider_id": "13",
            "name": "Labo",
            "service_ids": "[1]",
            "service_token": str(provider.service_token),
            "active": "on",
            "new_client_secret": new,
        },
    )
    provider.refresh_from_db()
    assert provider.check_client_secret(new) and not provider.check_client_secret(old)


def test_admin_pages_render(admin_client, provider_a, staff, client):
    for url in (
        "/admin/mcg/serviceprovider/",
        "/admin/mcg/servicerequest/",
        "/admin/mcg/inboxitem/",
        "/admin/mcg/deliveryattempt/",
        "/admin/mcg/revokedtoken/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_deactivating_in_admin_voids_the_providers_tokens(admin_client, provider_a):
    from .conftest import introspect

    caller = provider_a.token()
    model = provider_a.model
    response = admin_client.post(
        f"/admin/mcg/serviceprovider/{model.pk}/change/",
        {
            "provider_id": model.provider_id,
            "name": model.name,
            "service_ids": "[1, 2]",
            "service_token": str(model.service_token),
        },
    )
    assert response.status_code == 302
    model.refresh_from_db()
    assert not model.active and model.tokens_valid_after is not None
    assert introspect(admin_client, caller, caller).status_code == 401


@pytest.mark.parametrize("service_ids", ['["x"]', '{"a": 1}', "[true]"])
def test_admin_refuses_service_ids_that_are_not_whole_numbers(admin_client, service_ids):
    response = admin_client.post(
        "/admin/mcg/serviceprovider/add/",
        {"provider_id": "13", "name": "X", "service_ids": service_ids, "service_token": "6f1d9c3e-8b1a-4c2e-9f3a-2d4b5c6e7f81"},
    )
    assert response.status_code == 200
    assert "whole numbers" in response.content.decode()
    assert not ServiceProvider.objects.filter(provider_id=13).exists()
