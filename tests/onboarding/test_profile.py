import datetime

import pytest
from django.urls import reverse

from onboarding import services

pytestmark = pytest.mark.django_db

BLANK = {"first_name": "", "last_name": "", "mobile_number": "", "rpps_number": "", "gender": "", "cpf": "", "birth_date": ""}


@pytest.fixture
def user_client(client):
    user = services.register_staff(email="p@example.com", password="pw-123456789", first_name="Paula")
    client.force_login(user)
    return user, client


def test_profile_saves_cpf_as_digits_and_phone_in_e164(user_client):
    user, client = user_client
    response = client.post(
        reverse("profile"),
        {
            "first_name": "Paula",
            "last_name": "Souza",
            "mobile_number": "+55 27 99715-7620",
            "rpps_number": "",
            "gender": "f",
            "cpf": "544.300.707-68",
            "birth_date": "1993-08-05",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.cpf == "54430070768"
    assert user.mobile_number == "+5527997157620"
    assert user.birth_date == datetime.date(1993, 8, 5)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("cpf", "544.300.707-69", "valid CPF"),
        ("birth_date", "2999-01-01", "in the past"),
        ("birth_date", "05/08/1993x", "valid date"),
        ("mobile_number", "+33 1", "valid phone number"),
    ],
)
def test_profile_rejects_bad_values_and_keeps_input(user_client, field, value, message):
    user, client = user_client
    data = {
        "first_name": "Paula",
        "last_name": "Kept",
        "mobile_number": "",
        "rpps_number": "",
        "gender": "",
        "cpf": "",
        "birth_date": "",
    }
    data[field] = value
    response = client.post(reverse("profile"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert 'value="Kept"' in body
    user.refresh_from_db()
    assert user.last_name == ""


def test_a_cpf_held_by_another_account_is_refused_without_saying_so(user_client):
    user, client = user_client
    services.register_staff(email="other@example.com", password=None, cpf="54430070768")
    response = client.post(reverse("profile"), {**BLANK, "first_name": "P", "cpf": "54430070768"})
    body = response.content.decode()
    assert "This CPF cannot be saved on your account" in body
    for telling in ("already", "another account", "other@example.com"):
        assert telling not in body
    user.refresh_from_db()
    assert user.cpf == ""


def test_cpf_changes_are_rate_limited_refused_ones_included(user_client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "change_cpf": "3/h/user"}
    user, client = user_client
    services.register_staff(email="other@example.com", password=None, cpf="54430070768")
    for _try in range(3):
        client.post(reverse("profile"), {**BLANK, "cpf": "544.300.707-68"})
    response = client.post(reverse("profile"), {**BLANK, "cpf": "390.533.447-05"})
    assert "Too many CPF changes" in response.content.decode()
    user.refresh_from_db()
    assert user.cpf == ""
    # Saving the rest of the profile without touching the CPF is not limited.
    assert client.post(reverse("profile"), {**BLANK, "first_name": "Paula"}).status_code == 302


def test_profile_shows_verification_two_factor_and_sessions(user_client):
    user, client = user_client
    body = client.get(reverse("profile")).content.decode()
    assert "not verified" in body
    assert reverse("mfa_activate_totp") in body
    assert reverse("usersessions_list") in body
    assert reverse("account_email") in body
