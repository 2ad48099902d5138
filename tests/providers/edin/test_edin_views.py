"""The EDIN panel and actions on the pharmacy page: who may do what, and what each one sees."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding.models import AccountStatus, ProviderAccount
from providers.edin import services

from .conftest import EDIN_EMAIL, EDIN_PASSWORD

pytestmark = pytest.mark.django_db


def url(name, pharmacy):
    return reverse(name, args=[pharmacy.public_id])


def form(email=EDIN_EMAIL, password=EDIN_PASSWORD):
    return {"edin-email": email, "edin-password": password}


@pytest.fixture
def post_connect(client, pharmacy, edin_url, django_capture_on_commit_callbacks):
    def _post(user, data=None):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url("edin-connect", pharmacy), data or form())

    return _post


def test_titulaire_sees_the_connect_form(client, pharmacy, titulaire):
    client.force_login(titulaire)
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert 'id="edin"' in page
    assert "Not connected" in page
    assert 'name="edin-password"' in page
    assert url("edin-connect", pharmacy) in page


def test_stagiaire_sees_the_status_only(client, pharmacy, titulaire, stagiaire, post_connect):
    post_connect(titulaire)
    client.force_login(stagiaire)
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert "Connected" in page
    assert 'name="edin-password"' not in page
    assert url("edin-disconnect", pharmacy) not in page
    assert "titulaire or an adjoint can connect" in page


def test_stagiaire_cannot_connect_disconnect_or_check(client, pharmacy, stagiaire, edin_url):
    client.force_login(stagiaire)
    for name in ("edin-connect", "edin-disconnect", "edin-check"):
        assert client.post(url(name, pharmacy), form()).status_code == 403
    assert not ProviderAccount.objects.exists()


def test_member_of_another_pharmacy_gets_404(client, pharmacy, outsider, edin_url):
    client.force_login(outsider)
    for name in ("edin-connect", "edin-disconnect", "edin-check"):
        assert client.post(url(name, pharmacy), form()).status_code == 404
    assert client.get(url("edin-status", pharmacy)).status_code == 404
    assert not ProviderAccount.objects.exists()


def test_anonymous_is_sent_to_log_in(client, pharmacy):
    response = client.post(url("edin-connect", pharmacy), form())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_adjoint_connects_and_the_page_shows_connected(client, pharmacy, adjoint, post_connect):
    response = post_connect(adjoint)
    assert response.status_code == 302
    assert response["Location"].endswith("#edin")
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert "Connected" in page and EDIN_EMAIL in page
    assert url("edin-disconnect", pharmacy) in page
    assert EDIN_PASSWORD not in page
    assert client.get(url("edin-status", pharmacy)).json()["state"] == "connected"


def test_wrong_password_is_shown_with_the_form_again(client, pharmacy, titulaire, post_connect):
    post_connect(titulaire, form(password="wrong-Password-1"))
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert "Wrong email or password" in page
    assert f'value="{EDIN_EMAIL}"' in page  # the email is kept for the retry
    assert 'name="edin-password"' in page


def test_captcha_required_offers_check_again(client, pharmacy, titulaire, post_connect, sandbox, edin_url):
    sandbox.add_account("locked@edin.test", "right-pass", captcha=True)
    post_connect(titulaire, form("locked@edin.test", "right-pass"))
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert "Captcha required" in page
    assert f'href="{edin_url}/"' in page  # where the person solves the captcha
    assert url("edin-check", pharmacy) in page

    sandbox.sign_in_on_site("locked@edin.test", "right-pass")

    response = client.post(url("edin-check", pharmacy))
    assert response.status_code == 302
    assert services.edin_account(pharmacy).status == AccountStatus.ACTIVE


@pytest.mark.parametrize(
    "data,message",
    [
        (form(email="not-an-email"), "Enter a valid email address."),
        (form(password=""), "This field is required."),
        ({}, "This field is required."),
    ],
)
def test_bad_input_is_a_clear_form_error(client, pharmacy, titulaire, data, message):
    client.force_login(titulaire)
    response = client.post(url("edin-connect", pharmacy), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProviderAccount.objects.exists()


def test_form_errors_are_translated(client, pharmacy, titulaire):
    client.force_login(titulaire)
    response = client.post(url("edin-connect", pharmacy), form(email="x"), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Saisissez une adresse de courriel valide." in response.content.decode()


def test_disconnect_then_reconnect(client, pharmacy, titulaire, post_connect):
    post_connect(titulaire)
    response = client.post(url("edin-disconnect", pharmacy))
    assert response.status_code == 302
    account = services.edin_account(pharmacy)
    assert account.status == AccountStatus.DISCONNECTED and account.secrets == {}
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert "Not connected" in page and "Connect EDIN" in page

    post_connect(titulaire)
    assert services.edin_account(pharmacy).status == AccountStatus.ACTIVE


def test_check_again_without_an_account_says_so(client, pharmacy, titulaire):
    client.force_login(titulaire)
    response = client.post(url("edin-check", pharmacy), follow=True)
    assert "Connect an EDIN account first." in response.content.decode()


def test_get_on_actions_is_not_allowed(client, pharmacy, titulaire):
    client.force_login(titulaire)
    assert client.get(url("edin-connect", pharmacy)).status_code == 405


def test_checking_state_polls_the_status(client, pharmacy, titulaire):
    client.force_login(titulaire)
    client.post(url("edin-connect", pharmacy), form())  # not transactional: the check is never run
    page = client.get(pharmacy.get_absolute_url()).content.decode()
    assert "Checking…" in page
    assert f'data-edin-poll="{url("edin-status", pharmacy)}"' in page
    assert client.get(url("edin-status", pharmacy)).json()["state"] == "checking"
