import pytest
from django.urls import reverse

from onboarding.models import User

pytestmark = pytest.mark.django_db

VALID = {
    "email": "Claire.Dupont@Example.com",
    "first_name": "Claire",
    "last_name": "Dupont",
    "mobile_number": "06 12 34 56 78",
    "rpps_number": "10101234567",
    "gender": "f",
    "password1": "a-long-Pass-phrase-42",
    "password2": "a-long-Pass-phrase-42",
}


def test_signup_creates_user_with_normalised_fields_and_logs_in(client):
    response = client.post(reverse("signup"), VALID)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    user = User.objects.get()
    assert user.email == "claire.dupont@example.com"
    assert user.mobile_number == "+33612345678"
    assert user.rpps_number == "10101234567"
    assert user.check_password("a-long-Pass-phrase-42")
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("email", "not-an-email", "valid email"),
        ("mobile_number", "12", "valid phone number"),
        ("rpps_number", "12345", "11 digits"),
        ("gender", "x", "valid choice"),
        ("password2", "something-else-42", "didn’t match"),
    ],
)
def test_signup_rejects_bad_field_and_keeps_what_was_typed(client, field, value, message):
    response = client.post(reverse("signup"), {**VALID, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    # What the user typed is still in the form (except passwords).
    assert 'value="Dupont"' in response.content.decode()


def test_signup_refuses_an_email_already_registered_in_any_case(client):
    User.objects.create_user(email="claire.dupont@example.com", password="x")
    response = client.post(reverse("signup"), VALID)
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_signup_errors_are_translated(client):
    client.cookies["django_language"] = "fr"
    response = client.post(reverse("signup"), {**VALID, "rpps_number": "1"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "11 chiffres" in response.content.decode()


def test_login_page_and_login_by_email(client):
    User.objects.create_user(email="a@example.com", password="pw-0123456789")
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "A@example.com", "password": "pw-0123456789"})
    assert response.status_code == 302
