"""Connecting a pharmacy's EDIN account: verification by a real login, status, session, secrets at rest."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from onboarding.models import AccountStatus, OutboundCall, ProviderAccount
from providers.edin import services
from providers.edin.client import SessionExpired
from providers.http import AuthenticationError

from .conftest import EDIN_EMAIL, EDIN_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def connect(pharmacy, titulaire, edin_url, django_capture_on_commit_callbacks):
    """Connect the pharmacy with the given credentials; the verification task runs (eagerly) on commit."""

    def _connect(email=EDIN_EMAIL, password=EDIN_PASSWORD, user=titulaire):
        with django_capture_on_commit_callbacks(execute=True):
            account = services.connect(pharmacy=pharmacy, email=email, password=password, requested_by=user)
        account.refresh_from_db()
        return account

    return _connect


def test_connect_verifies_by_a_real_login_and_keeps_the_sid(connect, pharmacy, titulaire):
    account = connect(email=" Apteka@EDIN.test ")

    assert account.status == AccountStatus.ACTIVE
    assert account.login == EDIN_EMAIL
    assert account.verified_at is not None
    assert account.secrets["password"] == EDIN_PASSWORD
    assert len(account.secrets["sid"]) == 32
    assert services.connection_state(account).code == "connected"
    logins = OutboundCall.objects.filter(provider="edin").order_by("pk")
    assert [c.operation for c in logins] == ["login_token", "login"]
    assert all(c.pharmacy_id == pharmacy.pk and c.user_id == titulaire.pk for c in logins)


def test_wrong_credentials_are_shown_as_such(connect):
    account = connect(password="not-it")
    assert account.status == AccountStatus.FAILED
    assert "sid" not in account.secrets
    state = services.connection_state(account)
    assert state.code == "wrong_credentials"
    assert "refused this email and password" in state.detail


def test_captcha_required_tells_the_user_to_sign_in_on_edin(connect, sandbox):
    sandbox.add_account("locked@edin.test", "right-pass", captcha=True)
    account = connect(email="locked@edin.test", password="right-pass")
    assert account.status == AccountStatus.NEEDS_ATTENTION
    state = services.connection_state(account)
    assert state.code == "captcha_required"
    assert "EDIN's own site" in state.detail


def test_check_again_after_the_captcha_was_solved(connect, sandbox, pharmacy, titulaire, django_capture_on_commit_callbacks):
    sandbox.add_account("locked@edin.test", "right-pass", captcha=True)
    connect(email="locked@edin.test", password="right-pass")
    assert services.edin_account(pharmacy).status == AccountStatus.NEEDS_ATTENTION
    sandbox.sign_in_on_site("locked@edin.test", "right-pass")
    with django_capture_on_commit_callbacks(execute=True):
        services.check_again(pharmacy=pharmacy, requested_by=titulaire)
    assert services.edin_account(pharmacy).status == AccountStatus.ACTIVE


def test_edin_unreachable_after_retries_asks_to_check_again(connect, sandbox, settings):
    settings.EDIN_VERIFY_MAX_RETRIES = 1
    sandbox.faults(error_rate=1)
    account = connect()
    assert account.status == AccountStatus.NEEDS_ATTENTION
    assert services.connection_state(account).code == "unreachable"
    attempts = OutboundCall.objects.filter(operation="login_token").values_list("attempt", flat=True)
    assert sorted(attempts) == [1, 2]


def test_only_titulaire_or_adjoint_may_connect(pharmacy, adjoint, stagiaire, outsider, edin_url):
    for user in (stagiaire, outsider):
        with pytest.raises(PermissionDenied):
            services.connect(pharmacy=pharmacy, email=EDIN_EMAIL, password=EDIN_PASSWORD, requested_by=user)
        with pytest.raises(PermissionDenied):
            services.disconnect(pharmacy=pharmacy, requested_by=user)
    assert not ProviderAccount.objects.exists()
    assert services.connect(pharmacy=pharmacy, email=EDIN_EMAIL, password=EDIN_PASSWORD, requested_by=adjoint)


def test_disconnect_forgets_password_and_sid(connect, pharmacy, titulaire):
    connect()
    account = services.disconnect(pharmacy=pharmacy, requested_by=titulaire)
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert account.secrets == {}
    assert account.login == EDIN_EMAIL
    assert services.connection_state(account).code == "not_connected"
    with pytest.raises(services.NotConnected):
        services.open_session(pharmacy)


def test_reconnect_replaces_the_credentials(connect):
    connect(password="wrong-one")
    account = connect()
    assert account.status == AccountStatus.ACTIVE
    assert ProviderAccount.objects.filter(provider="edin").count() == 1


def test_a_late_result_for_old_credentials_is_ignored(connect, pharmacy, titulaire):
    account = connect()
    with pytest.MonkeyPatch.context() as mp:
        # The check of the old password finishes after the user typed a new one.
        original = services.edin_client

        def client_then_reconnect():
            ProviderAccount.objects.filter(pk=account.pk).update(login="new@edin.test")
            return original()

        mp.setattr(services, "edin_client", client_then_reconnect)
        services.verify(account.pk)
    account.refresh_from_db()
    assert account.login == "new@edin.test"
    assert account.status == AccountStatus.ACTIVE  # untouched by the stale result


def test_open_session_reuses_the_sid_and_saves_a_new_one(connect, pharmacy, sandbox):
    account = connect()
    first_sid = account.secrets["sid"]

    session = services.open_session(pharmacy)
    assert session.profile().email == EDIN_EMAIL
    assert session.sid == first_sid

    sandbox.end_sessions()
    services.open_session(pharmacy).profile()
    account.refresh_from_db()
    assert account.secrets["sid"] not in ("", first_sid)
    assert account.status == AccountStatus.ACTIVE


def test_session_in_a_new_process_logs_in_when_the_stored_sid_is_stale(connect, pharmacy, settings):
    connect()
    settings.EDIN_SESSION_IDLE_SECONDS = 0
    before = OutboundCall.objects.filter(operation="login").count()
    services.open_session(pharmacy).profile()
    assert OutboundCall.objects.filter(operation="login").count() == before + 1


def test_password_changed_at_edin_marks_the_account(connect, pharmacy, sandbox):
    connect()
    sandbox.add_account(EDIN_EMAIL, "changed-at-edin")
    sandbox.end_sessions()
    with pytest.raises(AuthenticationError):
        services.open_session(pharmacy).profile()
    assert services.edin_account(pharmacy).status == AccountStatus.FAILED


def test_session_expired_twice_is_reported_not_looped(connect, pharmacy, sandbox):
    connect()
    sandbox.control(idle_seconds=0.001)
    with pytest.raises(SessionExpired):
        services.open_session(pharmacy).profile()
    assert OutboundCall.objects.filter(operation="profile").count() == 2


def test_secrets_are_encrypted_at_rest_and_never_recorded(connect, pharmacy):
    account = connect()
    sid = account.secrets["sid"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets, login FROM onboarding_provideraccount WHERE id = %s", [account.pk])
        raw_secrets, raw_login = cursor.fetchone()
    assert raw_login == EDIN_EMAIL
    assert raw_secrets.startswith("gAAAAA")  # a Fernet token
    for plaintext in (EDIN_PASSWORD, sid, '"password"', '"sid"'):
        assert plaintext not in raw_secrets
    for call in OutboundCall.objects.all():
        text = f"{call.path} {call.request_excerpt} {call.response_excerpt} {call.error}"
        assert EDIN_PASSWORD not in text and sid not in text


def test_admin_pages_never_show_the_secrets(connect, admin_client):
    account = connect()
    sid = account.secrets["sid"]
    for page in (
        reverse("admin:onboarding_provideraccount_change", args=[account.pk]),
        reverse("admin:onboarding_provideraccount_changelist"),
        reverse("admin:onboarding_outboundcall_changelist"),
    ):
        response = admin_client.get(page)
        assert response.status_code == 200
        content = response.content.decode()
        assert EDIN_PASSWORD not in content and sid not in content
