"""Two-factor authentication: TOTP secrets encrypted at rest, clear errors, and admin behind a second factor."""

import time

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from onboarding import crypto, services
from onboarding.middleware import LAST_SEEN_KEY
from tests.accounts import totp_code

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-Pass-phrase-42"


def log_in(client, email):
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]


def activate_totp(client):
    # allauth asks for the password again before enrolment, even right after logging in.
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("account_reauthenticate"))
    client.post(page["Location"], {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[:3000]
    return secret


@pytest.fixture
def staff(db):
    return services.register_staff(email="staff@example.com", password=PASSWORD, email_verified=True, first_name="Sam")


def test_totp_secret_is_stored_encrypted_with_the_field_encryption_keys(client, staff):
    log_in(client, staff.email)
    secret = activate_totp(client)
    stored = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP).data["secret"]
    assert stored != secret and secret not in stored
    assert crypto.decrypt(stored) == secret
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.RECOVERY_CODES).exists()


def test_a_wrong_code_at_activation_says_what_to_do(client, staff):
    log_in(client, staff.email)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert "This code is wrong or was already used" in response.content.decode()
    assert not Authenticator.objects.filter(user=staff).exists()


def test_an_unverified_address_must_be_verified_before_two_factor(client):
    services.register_staff(email="new@example.com", password=PASSWORD)
    log_in(client, "new@example.com")
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    assert "Verify your email address first" in response.content.decode()


def test_login_with_totp_then_a_reused_code_is_refused(client, staff):
    log_in(client, staff.email)
    secret = activate_totp(client)
    client.post(reverse("account_logout"))
    log_in(client, staff.email)
    assert "_auth_user_id" not in client.session  # waiting for the second factor
    code = totp_code(secret)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
    client.post(reverse("account_logout"))
    log_in(client, staff.email)
    again = client.post(reverse("mfa_authenticate"), {"code": code})
    assert "This code is wrong or was already used" in again.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.fixture
def admin_user(db):
    user = services.register_staff(email="admin@example.com", password=PASSWORD, email_verified=True)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def test_admin_asks_staff_without_a_second_factor_to_enrol_first(client, admin_user, settings):
    settings.ADMIN_MFA_REQUIRED = True
    log_in(client, admin_user.email)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    activate_totp(client)
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_without_the_requirement_opens_without_a_second_factor(client, admin_user, settings):
    settings.ADMIN_MFA_REQUIRED = False
    log_in(client, admin_user.email)
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_login_goes_through_the_portal_login_page(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_session_left_idle_ends_and_says_why(client, staff, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    log_in(client, staff.email)
    assert client.get(reverse("dashboard")).status_code == 200
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 601
    session.save()
    response = client.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert "You were logged out after 10 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_active_session_stays(client, staff, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    log_in(client, staff.email)
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 599
    session.save()
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_user_sees_and_ends_their_other_sessions(client, staff):
    from django.test import Client

    other = Client()
    log_in(other, staff.email)
    log_in(client, staff.email)
    profile = client.get(reverse("profile"))
    assert "You are logged in on 1 other device or browser." in profile.content.decode()
    listing = client.get(reverse("usersessions_list"))
    assert listing.status_code == 200
    client.post(reverse("usersessions_list"))
    assert other.get(reverse("dashboard")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
