"""Edge cases of the EDIN client that the sandbox does not produce, with mocked HTTP."""

from __future__ import annotations

import pytest
import requests
import responses

from providers.edin.client import CaptchaRequired, EdinClient, EdinSession, SessionExpired
from providers.http import AuthenticationError, InvalidResponse, RetryableError

BASE = "https://edin.example"
TOKEN = "1ebe6825-0d1f-4577-a8d7-472650ce86b0"


@pytest.fixture
def calls():
    return []


@pytest.fixture
def edin(calls):
    return EdinClient(BASE, recorder=calls.append, timeout=(1.5, 4.0))


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def login_ok(mocked, sid="abc123sid"):
    mocked.post(f"{BASE}/bdoc/auth_uuid", json={"isCaptcha": False, "token": TOKEN})
    mocked.post(f"{BASE}/bdoc/auth", status=200, headers={"Set-Cookie": f"SID={sid}; Path=/; HttpOnly"})


def test_login_sends_multipart_fields_and_reads_the_sid_cookie(edin, mocked):
    login_ok(mocked)
    assert edin.login("a@edin.test", "pw") == "abc123sid"
    step1, step2 = mocked.calls[0].request, mocked.calls[1].request
    assert step1.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="email"\r\n\r\na@edin.test' in step1.body
    assert b'name="token"\r\n\r\n' + TOKEN.encode() in step2.body
    assert b'name="password"\r\n\r\npw' in step2.body


def test_every_call_carries_a_timeout(edin, mocked):
    login_ok(mocked)
    mocked.get(f"{BASE}/bdoc/profile", json={"email": "a@edin.test"})
    EdinSession(edin, "a@edin.test", "pw").profile()
    assert len(mocked.calls) == 3
    assert all(call.request.req_kwargs["timeout"] == (1.5, 4.0) for call in mocked.calls)


def test_later_calls_send_the_sid_as_a_cookie_header(edin, mocked):
    login_ok(mocked, sid="s1d")
    mocked.get(f"{BASE}/bdoc/profile", json={"email": "a@edin.test"})
    EdinSession(edin, "a@edin.test", "pw").profile()
    assert mocked.calls[2].request.headers["Cookie"] == "SID=s1d"


def test_a_login_answer_without_sid_is_invalid(edin, mocked):
    mocked.post(f"{BASE}/bdoc/auth_uuid", json={"isCaptcha": False, "token": TOKEN})
    mocked.post(f"{BASE}/bdoc/auth", status=200)
    with pytest.raises(InvalidResponse):
        edin.login("a@edin.test", "pw")


@pytest.mark.parametrize(
    "body",
    [{"isCaptcha": False}, {"isCaptcha": "no", "token": TOKEN}, ["not", "an", "object"], {"token": ""}],
)
def test_a_step_one_answer_without_token_or_flag_is_invalid(edin, mocked, calls, body):
    mocked.post(f"{BASE}/bdoc/auth_uuid", json=body)
    with pytest.raises(InvalidResponse):
        edin.request_login_token("a@edin.test")
    assert calls[-1].outcome == "invalid_response"


def test_a_non_json_step_one_answer_is_invalid(edin, mocked):
    mocked.post(f"{BASE}/bdoc/auth_uuid", body="<html>maintenance</html>", status=200)
    with pytest.raises(InvalidResponse):
        edin.request_login_token("a@edin.test")


def test_captcha_flag_stops_before_the_password_is_sent(edin, mocked):
    mocked.post(f"{BASE}/bdoc/auth_uuid", json={"isCaptcha": True, "token": TOKEN})
    step2 = mocked.post(f"{BASE}/bdoc/auth", status=200)
    with pytest.raises(CaptchaRequired):
        edin.login("a@edin.test", "pw")
    assert step2.call_count == 0


def test_a_forbidden_answer_without_captcha_flag_is_wrong_credentials(edin, mocked):
    mocked.post(f"{BASE}/bdoc/auth_uuid", json={"isCaptcha": False, "token": TOKEN})
    mocked.post(f"{BASE}/bdoc/auth", status=403, json={"error": "blocked"})
    with pytest.raises(AuthenticationError) as excinfo:
        edin.login("a@edin.test", "pw")
    assert not isinstance(excinfo.value, CaptchaRequired)


@pytest.mark.parametrize("status", [500, 502, 429])
def test_server_errors_are_retryable(edin, mocked, status):
    mocked.post(f"{BASE}/bdoc/auth_uuid", status=status)
    with pytest.raises(RetryableError):
        edin.login("a@edin.test", "pw")


def test_connection_refused_is_retryable(calls):
    closed_port = EdinClient("http://127.0.0.1:9", recorder=calls.append, timeout=(0.5, 0.5))
    with pytest.raises(RetryableError):
        closed_port.request_login_token("a@edin.test")
    assert calls[-1].status_code is None


def test_session_gives_up_after_one_fresh_login_still_refused(edin, mocked):
    step2 = mocked.post(f"{BASE}/bdoc/auth", status=200, headers={"Set-Cookie": "SID=new"})
    mocked.post(f"{BASE}/bdoc/auth_uuid", json={"isCaptcha": False, "token": TOKEN})
    profile = mocked.get(f"{BASE}/bdoc/profile", status=401, json={"error": "session expired"})
    session = EdinSession(edin, "a@edin.test", "pw", sid="old", used_at=1e12, clock=lambda: 1e12)

    with pytest.raises(SessionExpired):
        session.profile()

    assert step2.call_count == 1
    assert profile.call_count == 2


def test_session_with_no_sid_logs_in_and_does_not_retry_a_refusal(edin, mocked):
    login_ok(mocked)
    profile = mocked.get(f"{BASE}/bdoc/profile", status=401)
    with pytest.raises(SessionExpired):
        EdinSession(edin, "a@edin.test", "pw").profile()
    assert profile.call_count == 1
    assert len(mocked.calls) == 3


def test_session_reports_every_new_sid_and_use(edin, mocked):
    login_ok(mocked, sid="first")
    mocked.get(f"{BASE}/bdoc/profile", json={"email": "a@edin.test"})
    seen = []
    now = [1000.0]
    session = EdinSession(edin, "a@edin.test", "pw", on_sid_change=lambda sid, at: seen.append((sid, at)), clock=lambda: now[0])
    session.profile()
    now[0] = 1300.0
    session.profile()
    assert seen == [("first", 1000.0), ("first", 1000.0), ("first", 1300.0)]


def test_session_repr_hides_the_secrets():
    session = EdinSession(EdinClient(BASE), "a@edin.test", "hunter2-password", sid="the-sid")
    assert "hunter2" not in repr(session) and "the-sid" not in repr(session)


def test_recorded_step_two_redacts_token_and_password(edin, mocked, calls):
    login_ok(mocked, sid="sidvalue")
    edin.login("a@edin.test", "pw-Secret-1")
    text = repr(calls)
    assert "pw-Secret-1" not in text and TOKEN not in text and "sidvalue" not in text


def test_timeouts_are_real(calls):
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/bdoc/auth_uuid", body=requests.ReadTimeout("slow"))
        with pytest.raises(RetryableError):
            EdinClient(BASE, recorder=calls.append).request_login_token("a@edin.test")
    assert calls[-1].outcome == "timeout"
