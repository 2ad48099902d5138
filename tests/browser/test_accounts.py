"""Staff accounts in a real browser: sign up, log out, log in, see the dashboard."""

import pytest

from onboarding.models import User
from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def test_sign_up_log_out_log_in_and_see_the_dashboard(page):
    page.goto("/accounts/signup/")
    page.get_by_label("Email address").fill("marie.curie@example.com")
    page.get_by_label("First name").fill("Marie")
    page.get_by_label("Last name").fill("Curie")
    page.get_by_label("Mobile number").fill("06 12 34 56 78")
    page.get_by_label("RPPS number").fill("123")  # wrong on purpose
    page.locator("#id_password1").fill("radium-and-polonium-1898")
    page.locator("#id_password2").fill("radium-and-polonium-1898")
    page.get_by_role("button", name="Create my account").click()

    # The error is shown next to the field and nothing typed is lost.
    page.get_by_text("An RPPS number has exactly 11 digits.").wait_for()
    assert page.get_by_label("Last name").input_value() == "Curie"
    page.get_by_label("RPPS number").fill("10101234567")
    page.locator("#id_password1").fill("radium-and-polonium-1898")
    page.locator("#id_password2").fill("radium-and-polonium-1898")
    page.get_by_role("button", name="Create my account").click()

    page.get_by_role("heading", name="Hello, Marie").wait_for()
    assert User.objects.get(email="marie.curie@example.com").mobile_number == "+33612345678"

    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("Marie.Curie@example.com")
    page.get_by_label("Password").fill("radium-and-polonium-1898")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Marie").wait_for()
    path = screenshot(page, "dashboard")
    assert path.stat().st_size > 5000


def test_language_switcher_translates_the_page(page):
    page.goto("/accounts/login/")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("heading", name="Se connecter").wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label("Langue").select_option("uk")
    page.get_by_role("heading", name="Увійти").wait_for()
    assert page.get_by_role("link", name="Створити обліковий запис").count() >= 1
