"""Staff accounts in a real browser: verified sign-up to the sandbox, two-factor, lockout, invitations."""

import re
import time

import pytest
from playwright.sync_api import expect

from onboarding import services
from onboarding.models import Invitation, InvitationStatus, Job, JobStatus, Membership, User
from providers.bimedoc import services as bimedoc
from tests.accounts import path_of, totp_code
from tests.conftest import screenshot
from tests.providers.bimedoc.conftest import PASSWORD as STAFF_PASSWORD
from tests.providers.bimedoc.conftest import bimedoc_sandbox, sandbox_state  # noqa: F401 - fixtures
from tests.providers.bimedoc.test_pharmacy_page import onboarded

pytestmark = pytest.mark.browser

PASSWORD = "radium-and-polonium-1898"


def log_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")


def worker_mail(mail_dir, to: str, marker: str, timeout=30.0) -> str:
    """The first link containing ``marker`` in a message the real worker sent to ``to``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.log")):
            for message in path.read_text().split("-" * 79):
                if f"To: {to}" in message and (found := re.search(rf"https?://\S*{re.escape(marker)}\S*", message)):
                    return found.group(0)
        time.sleep(0.3)
    raise AssertionError(f"no message to {to} with {marker}")


@pytest.mark.worker
@pytest.mark.timeout(180)
def test_sign_up_verify_the_email_then_set_up_the_pharmacy_on_the_sandbox(celery_worker, worker_mail_dir, page, bimedoc_sandbox):  # noqa: F811
    page.goto("/accounts/signup/")
    page.get_by_label("Email address").fill("marie.curie@example.com")
    page.get_by_label("First name").fill("Marie")
    page.get_by_label("Last name").fill("Curie")
    page.get_by_label("Mobile number").fill("06 12 34 56 78")
    page.get_by_label("RPPS number").fill("123")  # wrong on purpose
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    # The error is shown next to the field and nothing typed is lost.
    page.get_by_text("An RPPS number has exactly 11 digits.").wait_for()
    assert page.get_by_label("Last name").input_value() == "Curie"
    page.get_by_label("RPPS number").fill("10101234567")
    page.get_by_label("Gender").select_option("f")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    page.get_by_role("heading", name="Hello, Marie").wait_for()
    expect(page.locator("#verify-email-notice")).to_contain_text("not verified yet")

    # Before verifying, the wizard can be filled in but not submitted.
    page.get_by_role("link", name="Set up a pharmacy").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Pharmacy name").fill("Pharmacie Curie")
    page.get_by_label("City").fill("Paris")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Create the pharmacy").click()
    expect(page.locator("#verify-reason")).to_contain_text("Verify your email address first")
    assert not Job.objects.exists()
    screenshot(page, "accounts-verification-required")

    link = worker_mail(worker_mail_dir, "marie.curie@example.com", "/accounts/confirm-email/")
    page.goto(path_of(link))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Hello, Marie").wait_for()
    expect(page.locator("#verify-email-notice")).to_have_count(0)

    page.goto("/pharmacies/new/review/")
    page.get_by_role("button", name="Create the pharmacy").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    expect(page.locator("#job-done")).to_be_visible(timeout=30000)
    job = Job.objects.get()
    assert job.status == JobStatus.SUCCEEDED
    assert job.payload["person"]["email"] == "marie.curie@example.com"
    page.get_by_role("link", name="Go to the pharmacy").click()
    page.get_by_role("button", name="Open Bimedoc").click()
    expect(page.locator("#sso-user")).to_contain_text("marie.curie@example.com")


@pytest.mark.timeout(120)
def test_enrol_totp_then_log_in_with_a_code_then_with_a_recovery_code(page):
    services.register_staff(email="sam@example.com", password=PASSWORD, email_verified=True, first_name="Sam")
    log_in(page, "sam@example.com")
    page.get_by_role("heading", name="Hello, Sam").wait_for()
    page.goto("/accounts/profile/")
    page.locator("#enable-totp").click()
    # allauth asks for the password again before enrolment.
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    secret = page.locator("#authenticator_secret").input_value()
    assert page.locator(".totp-qr svg").count() == 1
    page.locator("input[name=code]").fill("000000" if totp_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(".field-errors")).to_contain_text("This code is wrong or was already used")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    recovery_codes = page.locator("#recovery_codes").input_value().split()
    assert len(recovery_codes) == 10
    screenshot(page, "accounts-recovery-codes")

    page.goto("/")
    log_out(page)
    log_in(page, "sam@example.com")
    page.get_by_role("heading", name="Two-factor authentication").wait_for()
    code = totp_code(secret)
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Sam").wait_for()

    log_out(page)
    log_in(page, "sam@example.com")
    page.locator("input[name=code]").fill(code)  # already used (or expired by now): refused either way
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".field-errors")).to_contain_text("This code is wrong or was already used")
    page.locator("input[name=code]").fill(recovery_codes[0])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Sam").wait_for()
    page.goto("/accounts/2fa/recovery-codes/")
    page.get_by_label("Password").fill(PASSWORD)  # viewing the codes asks for the password again
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("main")).to_contain_text("There are 9 out of 10 recovery codes available.")


@pytest.mark.timeout(120)
def test_repeated_failed_logins_lock_the_account_with_a_message(page):
    services.register_staff(email="sam@example.com", password=PASSWORD, email_verified=True, first_name="Sam")
    for _attempt in range(5):
        log_in(page, "sam@example.com", "not-the-password")
        expect(page.locator(".errorlist-box")).to_contain_text("not correct")
    log_in(page, "sam@example.com")  # the right password, too late
    expect(page.locator(".errorlist-box")).to_contain_text("Too many failed attempts to log in to this account")
    screenshot(page, "accounts-locked-out")
    assert page.get_by_role("heading", name="Hello, Sam").count() == 0


@pytest.mark.timeout(120)
def test_an_existing_user_invited_accepts_and_gets_a_bimedoc_user_in_the_pharmacy(page, bimedoc_sandbox):  # noqa: F811
    titulaire, pharmacy = onboarded()
    services.register_staff(email="lucas@example.com", password=PASSWORD, email_verified=True, first_name="Lucas",
                            last_name="Bernard", gender="m")  # fmt: skip
    log_in(page, titulaire.email, STAFF_PASSWORD)
    page.goto(pharmacy.get_absolute_url())
    page.get_by_role("link", name="Add a colleague").click()
    page.get_by_label("Email address").fill("lucas@example.com")
    page.get_by_label("First name").fill("Lucas")
    page.get_by_label("Last name").fill("Bernard")
    page.get_by_label("Gender").select_option("m")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to lucas@example.com")
    expect(page.locator("#pharmacy-invitations")).to_contain_text("Pending")
    assert not Membership.objects.filter(user__email="lucas@example.com").exists()
    log_out(page)

    log_in(page, "lucas@example.com")
    invitation = page.locator("#pending-invitations")
    expect(invitation).to_contain_text("Pharmacie du Port")
    screenshot(page, "accounts-invitation-on-dashboard")
    invitation.get_by_role("button", name="Accept").click()
    expect(page.locator("#job-done")).to_be_visible(timeout=30000)
    lucas = User.objects.get(email="lucas@example.com")
    assert Membership.objects.get(user=lucas, pharmacy=pharmacy).function == "adjoint"
    assert bimedoc.user_account(lucas).is_active
    page.goto(pharmacy.get_absolute_url())
    page.get_by_role("button", name="Open Bimedoc").click()
    expect(page.locator("#sso-user")).to_contain_text("lucas@example.com")


@pytest.mark.timeout(120)
def test_an_existing_user_invited_declines_from_the_email_and_nothing_is_created(page, bimedoc_sandbox, sandbox_state):  # noqa: F811
    from django.core import mail

    titulaire, pharmacy = onboarded()
    services.register_staff(email="lucas@example.com", password=PASSWORD, email_verified=True, first_name="Lucas")
    bimedoc.add_colleague(pharmacy=pharmacy, by=titulaire, function="adjoint", email="lucas@example.com",
                          first_name="Lucas", last_name="Bernard", gender="m", mobile_number="", rpps_number="")  # fmt: skip
    (message,) = [m for m in mail.outbox if m.to == ["lucas@example.com"]]
    link = re.search(r"https?://\S+/invitations/\S+", message.body).group(0)
    page.goto(path_of(link))
    expect(page.locator("#invitation-login")).to_be_visible()
    page.get_by_role("button", name="Decline").click()
    expect(page.locator("#invitation-declined")).to_contain_text("Nothing was created for you there")
    screenshot(page, "accounts-invitation-declined")
    page.goto(path_of(link))
    expect(page.locator("#invitation-closed")).to_contain_text("You declined this invitation")
    assert Invitation.objects.get().status == InvitationStatus.DECLINED
    assert not Membership.objects.filter(user__email="lucas@example.com").exists()
    assert not Job.objects.filter(kind=bimedoc.KIND_ADD_COLLEAGUE).exists()
    assert sandbox_state()["users"] == 1


def test_language_switcher_translates_the_page(page):
    page.goto("/accounts/login/")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("heading", name="Se connecter").wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label("Langue").select_option("uk")
    page.get_by_role("heading", name="Увійти").wait_for()
    assert page.get_by_role("link", name="Створити обліковий запис").count() >= 1


@pytest.mark.timeout(120)
def test_add_a_passkey_then_log_in_with_it(page):
    from allauth.mfa.models import Authenticator

    user = services.register_staff(email="sam@example.com", password=PASSWORD, email_verified=True, first_name="Sam")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {"options": {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                     "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}},
    )  # fmt: skip
    log_in(page, "sam@example.com")
    page.get_by_role("heading", name="Hello, Sam").wait_for()
    page.goto("/accounts/2fa/webauthn/add/")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Passwordless").check()
    page.locator("#mfa_webauthn_add").click()
    expect(page).not_to_have_url(re.compile(r"/webauthn/add/"))
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).count() == 1
    screenshot(page, "accounts-passkey-added")
    page.goto("/")
    log_out(page)
    page.locator("#passkey_login").click()
    page.get_by_role("heading", name="Hello, Sam").wait_for()
