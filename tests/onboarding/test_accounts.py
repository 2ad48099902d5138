"""Staff accounts on django-allauth: sign-up, verification, login, lockout, password reset and the old URLs."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.tokens import default_token_generator as legacy_tokens
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from onboarding import services
from onboarding.models import User
from tests.accounts import links_in, path_of

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Pass-phrase-42"
VALID = {
    "email": "Claire.Dupont@Example.com",
    "first_name": "Claire",
    "last_name": "Dupont",
    "mobile_number": "06 12 34 56 78",
    "rpps_number": "10101234567",
    "gender": "f",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def test_signup_creates_an_unverified_account_logs_in_and_sends_a_verification_link(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), VALID)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    user = User.objects.get()
    assert user.email == "claire.dupont@example.com"
    assert user.mobile_number == "+33612345678"
    assert user.rpps_number == "10101234567"
    assert user.check_password(PASSWORD)
    address = EmailAddress.objects.get(user=user)
    assert address.primary and not address.verified
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert "is not verified yet" in dashboard.content.decode()

    (message,) = mail.outbox
    assert message.to == ["claire.dupont@example.com"]
    (link,) = [link for link in links_in(message.body) if "/accounts/confirm-email/" in link]
    assert link.startswith("http://127.0.0.1:8000/accounts/confirm-email/")
    assert client.get(path_of(link)).status_code == 200
    response = client.post(path_of(link))
    assert response.status_code == 302
    address.refresh_from_db()
    assert address.verified


def test_a_used_or_forged_verification_link_says_what_to_do(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), VALID)
    (link,) = [link for link in links_in(mail.outbox[0].body) if "/accounts/confirm-email/" in link]
    client.post(path_of(link))
    again = client.get(path_of(link))
    assert again.status_code == 200
    assert "This verification link no longer works" in again.content.decode()
    forged = client.get(path_of(link)[:-6] + "xxxxx/")
    assert "This verification link no longer works" in forged.content.decode()


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("email", "not-an-email", "valid email"),
        ("mobile_number", "12", "valid phone number"),
        ("rpps_number", "12345", "11 digits"),
        ("gender", "x", "valid choice"),
        ("password2", "something-else-42", "same password"),
    ],
)
def test_signup_rejects_bad_field_and_keeps_what_was_typed(client, field, value, message):
    response = client.post(reverse("account_signup"), {**VALID, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert 'value="Dupont"' in response.content.decode()


def test_signup_errors_are_translated(client):
    client.cookies["django_language"] = "fr"
    response = client.post(reverse("account_signup"), {**VALID, "rpps_number": "1"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "11 chiffres" in response.content.decode()


def test_login_by_email_in_any_case(client):
    services.register_staff(email="a@example.com", password=PASSWORD)
    assert client.get(reverse("account_login")).status_code == 200
    response = client.post(reverse("account_login"), {"login": "A@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_repeated_failed_logins_lock_the_account_even_with_the_right_password(client):
    services.register_staff(email="a@example.com", password=PASSWORD)
    for _attempt in range(5):
        response = client.post(reverse("account_login"), {"login": "a@example.com", "password": "wrong-password-1"})
        assert "not correct" in response.content.decode()
    response = client.post(reverse("account_login"), {"login": "a@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed attempts to log in to this account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_ups_from_one_address_are_rate_limited_with_a_page_that_says_what_to_do(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/h/ip"}
    for n in range(2):
        client.post(reverse("account_signup"), {**VALID, "email": f"person{n}@example.com"})
        client.logout()
    response = client.post(reverse("account_signup"), {**VALID, "email": "third@example.com"})
    assert response.status_code == 429
    assert "Wait a few minutes, then try again" in response.content.decode()
    assert not User.objects.filter(email="third@example.com").exists()


def test_password_reset_link_is_built_in_the_task_and_verifies_the_address(client, django_capture_on_commit_callbacks):
    user = services.register_staff(email="reset.me@example.com", password="old-Pass-phrase-42")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "reset.me@example.com"})
    assert response.status_code == 302
    (message,) = mail.outbox
    (link,) = [link for link in links_in(message.body) if "/accounts/password/reset/key/" in link]
    form_page = client.get(path_of(link), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(form_page.redirect_chain[-1][0], {"password1": "new-Pass-phrase-42", "password2": "new-Pass-phrase-42"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-Pass-phrase-42")
    assert EmailAddress.objects.get(user=user).verified
    # The link works once.
    reused = client.get(path_of(link), follow=True)
    assert "This link no longer works" in reused.content.decode()


def test_old_password_reset_address_redirects(client):
    response = client.get("/accounts/password_reset/")
    assert response.status_code == 301
    assert response["Location"] == reverse("account_reset_password")


def test_a_still_valid_set_password_link_from_before_allauth_keeps_working(client):
    user = services.register_staff(email="invited@example.com", password=None)
    path = f"/accounts/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{legacy_tokens.make_token(user)}/"
    page = client.get(path, follow=True)
    assert "Choose a new password" in page.content.decode()
    client.post(page.redirect_chain[-1][0], {"password1": "new-Pass-phrase-42", "password2": "new-Pass-phrase-42"})
    user.refresh_from_db()
    assert user.check_password("new-Pass-phrase-42")


def test_an_expired_link_from_before_allauth_asks_for_a_new_one(client):
    user = services.register_staff(email="invited@example.com", password=None)
    response = client.get(f"/accounts/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/bad-token/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_reset_password")
    assert "This link has expired or was already used" in response.content.decode()


def test_the_login_page_is_translated_by_allauth_and_the_portal(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="pt-br")
    body = response.content.decode()
    assert "Senha" in body  # allauth's own catalog
    assert "Esqueceu sua senha?" in body
