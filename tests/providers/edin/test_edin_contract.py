"""The EDIN client against the simulated EDIN over real HTTP: login, session expiry, captcha, errors."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
import requests

from providers.edin.client import CaptchaRequired, EdinClient, EdinSession, SessionExpired
from providers.http import AuthenticationError, InvalidResponse, OutcomeUnknown, RetryableError

from .conftest import EDIN_EMAIL, EDIN_PASSWORD


def operations(calls):
    return [(c.operation, c.status_code) for c in calls]


def assert_no_secret_recorded(calls, *secrets):
    for call in calls:
        text = " ".join(str(v) for v in dataclasses.asdict(call).values())
        for secret in secrets:
            assert secret not in text, f"{call.operation} recorded a secret"


def test_login_returns_a_sid_that_authenticates_later_calls(edin, calls):
    sid = edin.login(EDIN_EMAIL, EDIN_PASSWORD)
    session = EdinSession(edin, EDIN_EMAIL, EDIN_PASSWORD, sid=sid, used_at=time.time())

    profile = session.profile()

    assert len(sid) >= 16
    assert profile.email == EDIN_EMAIL
    assert profile.company
    assert operations(calls) == [("login_token", 200), ("login", 200), ("profile", 200)]


def test_login_steps_take_multipart_form_data_only(edin_url):
    urlencoded = requests.post(f"{edin_url}/bdoc/auth_uuid", data={"email": EDIN_EMAIL}, timeout=5)
    multipart = requests.post(f"{edin_url}/bdoc/auth_uuid", files={"email": (None, EDIN_EMAIL)}, timeout=5)

    assert urlencoded.status_code == 415
    assert multipart.status_code == 200
    assert multipart.json()["isCaptcha"] is False


def test_step_one_answers_a_token_and_the_captcha_flag(edin):
    login_token = edin.request_login_token(EDIN_EMAIL)
    assert login_token.is_captcha is False
    assert len(login_token.token) == 36


def test_a_login_token_works_once(edin):
    login_token = edin.request_login_token(EDIN_EMAIL)
    edin.authenticate(login_token.token, EDIN_PASSWORD)
    with pytest.raises(AuthenticationError):
        edin.authenticate(login_token.token, EDIN_PASSWORD)


def test_wrong_password_is_an_authentication_error(edin, calls):
    with pytest.raises(AuthenticationError) as excinfo:
        edin.login(EDIN_EMAIL, "not-the-password")
    assert not isinstance(excinfo.value, CaptchaRequired)
    assert excinfo.value.status_code == 401
    assert operations(calls)[-1] == ("login", 401)


def test_unknown_email_fails_at_the_password_step(edin):
    with pytest.raises(AuthenticationError):
        edin.login("nobody@edin.test", "whatever")


def test_captcha_after_repeated_failures_until_signed_in_on_the_site(edin, sandbox, edin_url):
    sandbox.control(captcha_after=2)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            edin.login(EDIN_EMAIL, "wrong")

    with pytest.raises(CaptchaRequired) as excinfo:
        edin.login(EDIN_EMAIL, EDIN_PASSWORD)
    assert "EDIN's own site" in excinfo.value.message

    # The person signs in on EDIN's site: the captcha box is required there.
    site = requests.Session()
    form = site.get(f"{edin_url}/", timeout=5)
    csrf = site.cookies["csrftoken"]
    data = {"csrfmiddlewaretoken": csrf, "email": EDIN_EMAIL, "password": EDIN_PASSWORD}
    assert form.status_code == 200
    assert site.post(f"{edin_url}/", data=data, headers={"Referer": edin_url}, timeout=5).status_code == 400
    signed_in = site.post(f"{edin_url}/", data={**data, "not_a_robot": "1"}, headers={"Referer": edin_url}, timeout=5)
    assert signed_in.status_code == 200

    assert edin.login(EDIN_EMAIL, EDIN_PASSWORD)


def test_step_two_refuses_a_captcha_token_even_with_the_right_password(edin, sandbox):
    sandbox.add_account("locked@edin.test", "right-pass", captcha=True)
    login_token = edin.request_login_token("locked@edin.test")
    assert login_token.is_captcha is True
    with pytest.raises(CaptchaRequired):
        edin.authenticate(login_token.token, "right-pass")


def test_idle_sid_expires_and_the_session_logs_in_again_silently(edin, calls, sandbox):
    sandbox.control(idle_seconds=1)
    kept = []
    session = EdinSession(edin, EDIN_EMAIL, EDIN_PASSWORD, on_sid_change=lambda sid, at: kept.append(sid))
    session.profile()
    first_sid = session.sid
    time.sleep(1.3)

    assert session.profile().email == EDIN_EMAIL

    assert session.sid != first_sid
    assert kept[-1] == session.sid
    assert operations(calls) == [
        ("login_token", 200),
        ("login", 200),
        ("profile", 200),
        ("profile", 401),
        ("login_token", 200),
        ("login", 200),
        ("profile", 200),
    ]


def test_session_ended_by_edin_logs_in_again_once(edin, calls, sandbox):
    session = EdinSession(edin, EDIN_EMAIL, EDIN_PASSWORD)
    session.profile()
    sandbox.end_sessions()
    calls.clear()

    session.profile()

    assert operations(calls) == [("profile", 401), ("login_token", 200), ("login", 200), ("profile", 200)]


def test_session_logs_in_first_when_the_sid_sat_idle_past_the_client_limit(edin, calls):
    sid = edin.login(EDIN_EMAIL, EDIN_PASSWORD)
    session = EdinSession(edin, EDIN_EMAIL, EDIN_PASSWORD, sid=sid, used_at=time.time() - 601, idle_seconds=600)
    calls.clear()

    session.profile()

    assert operations(calls) == [("login_token", 200), ("login", 200), ("profile", 200)]
    assert session.sid != sid


def test_an_unusable_sid_is_not_retried_in_a_loop(edin, calls, sandbox):
    session = EdinSession(edin, EDIN_EMAIL, EDIN_PASSWORD, sid="f" * 32, used_at=time.time())
    sandbox.control(idle_seconds=0.001)  # every SID is stale by its first use

    with pytest.raises(SessionExpired):
        session.profile()

    assert operations(calls) == [("profile", 401), ("login_token", 200), ("login", 200), ("profile", 401)]


def test_edin_errors_are_retryable(edin, sandbox):
    sandbox.faults(error_rate=1)
    with pytest.raises(RetryableError) as excinfo:
        edin.login(EDIN_EMAIL, EDIN_PASSWORD)
    assert excinfo.value.status_code == 503


def test_unreadable_answer_is_an_invalid_response(edin, sandbox):
    sandbox.faults(malformed_rate=1)
    with pytest.raises(InvalidResponse):
        edin.request_login_token(EDIN_EMAIL)


def test_no_answer_in_time_is_an_unknown_outcome(edin_url, sandbox, calls):
    sandbox.faults(timeout_after_rate=1, stall_seconds=1.5)
    impatient = EdinClient(edin_url, recorder=calls.append, timeout=(2.0, 0.5))
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown):
        impatient.request_login_token(EDIN_EMAIL)
    assert time.monotonic() - started < 1.4
    assert calls[-1].outcome == "timeout"


def test_no_password_token_or_sid_in_any_record(edin, calls, sandbox):
    login_token = edin.request_login_token(EDIN_EMAIL)
    sid = edin.authenticate(login_token.token, EDIN_PASSWORD)
    session = EdinSession(edin, EDIN_EMAIL, EDIN_PASSWORD, sid=sid, used_at=time.time())
    session.profile()
    sandbox.end_sessions()
    session.profile()
    with pytest.raises(AuthenticationError):
        edin.login(EDIN_EMAIL, "a-wrong-Secret-99")

    assert len(calls) == 9
    assert_no_secret_recorded(calls, EDIN_PASSWORD, login_token.token, sid, session.sid, "a-wrong-Secret-99")


def test_the_http_session_keeps_no_cookie(edin):
    edin.login(EDIN_EMAIL, EDIN_PASSWORD)
    assert len(edin.transport.session.cookies) == 0


def test_records_show_the_form_fields_with_secrets_redacted(edin, calls):
    edin.login(EDIN_EMAIL, EDIN_PASSWORD)
    step1, step2 = calls
    assert json.loads(step1.request_excerpt) == {"email": EDIN_EMAIL}
    assert json.loads(step1.response_excerpt) == {"isCaptcha": False, "token": "[redacted]"}
    assert json.loads(step2.request_excerpt) == {"token": "[redacted]", "password": "[redacted]"}
