"""Admins register, edit and deactivate integration clients in Django admin; the password is never shown."""

import pytest
from django.contrib import admin
from django.urls import reverse

from onboarding.models import User
from providers.mobilesaude.models import IntegrationClient

from .conftest import SENHA, USUARIO


@pytest.fixture
def admin_client(db, client):
    user = User.objects.create_superuser(email="admin@example.com", password="admin-password-long")
    client.force_login(user)
    return client


def test_integration_clients_are_registered_in_admin():
    assert admin.site.is_registered(IntegrationClient)


def test_an_admin_adds_a_client_with_a_hashed_password(admin_client, post_json):
    response = admin_client.post(
        reverse("admin:mobilesaude_integrationclient_add"),
        {"usuario": "nova-operadora", "new_password": "senha-nova-bem-longa", "is_active": "on"},
    )

    assert response.status_code == 302, response.content
    stored = IntegrationClient.objects.get(usuario="nova-operadora")
    assert stored.check_password("senha-nova-bem-longa")
    assert post_json("autorizacao", {"usuario": "nova-operadora", "senha": "senha-nova-bem-longa"}).status_code == 200


def test_a_new_client_needs_a_password(admin_client):
    response = admin_client.post(reverse("admin:mobilesaude_integrationclient_add"), {"usuario": "sem-senha"})

    assert response.status_code == 200
    assert not IntegrationClient.objects.filter(usuario="sem-senha").exists()


def test_the_change_page_never_shows_the_password_hash(admin_client, integration_client):
    response = admin_client.get(reverse("admin:mobilesaude_integrationclient_change", args=[integration_client.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert integration_client.password not in page
    assert integration_client.password.split("$")[-1] not in page
    assert USUARIO in page


def test_editing_without_a_new_password_keeps_the_old_one(admin_client, integration_client):
    response = admin_client.post(
        reverse("admin:mobilesaude_integrationclient_change", args=[integration_client.pk]),
        {"usuario": USUARIO, "new_password": "", "is_active": "on"},
    )

    assert response.status_code == 302
    integration_client.refresh_from_db()
    assert integration_client.check_password(SENHA)


def test_the_deactivate_action_stops_the_client(admin_client, integration_client, post_json):
    response = admin_client.post(
        reverse("admin:mobilesaude_integrationclient_changelist"),
        {"action": "deactivate", "_selected_action": [integration_client.pk]},
    )

    assert response.status_code == 302
    integration_client.refresh_from_db()
    assert not integration_client.is_active
    assert post_json("autorizacao", {"usuario": USUARIO, "senha": SENHA}).status_code == 401
