"""The EDIN client: the two-step login (seeds/edin-auth.uk.txt) and a session that keeps its SID alive.

EDIN logs in with two multipart/form-data POSTs: ``/bdoc/auth_uuid`` (email)
answers ``{"isCaptcha": bool, "token": "..."}``, then ``/bdoc/auth`` (token,
password) answers 200 with ``Set-Cookie: SID=...``. Every later call sends
``Cookie: SID=...``; EDIN forgets a session after 10 minutes idle and then
answers 401 (what the sandbox does; the seed leaves the status unsaid).
"""

from __future__ import annotations

import http.cookiejar
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from providers.http import (
    DEFAULT_POOL_SIZE,
    AuthenticationError,
    HttpTransport,
    Recorder,
    build_session,
    json_body,
    null_recorder,
    raise_for_status,
)

PROVIDER = "edin"
SESSION_IDLE_SECONDS = 600
SESSION_GONE_STATUSES = (401,)
CAPTCHA_MESSAGE = "EDIN asks for a captcha for this account: sign in once on EDIN's own site, then try again."


class CaptchaRequired(AuthenticationError):
    """EDIN wants a captcha solved before it accepts a login (after repeated failures); only its own site can."""


class SessionExpired(AuthenticationError):
    """EDIN no longer knows the SID (idle too long, or ended on its side)."""


@dataclass(frozen=True)
class LoginToken:
    """What step 1 answers: the token for step 2, and whether EDIN wants a captcha."""

    token: str
    is_captcha: bool


@dataclass(frozen=True)
class Profile:
    """The signed-in EDIN user, as ``GET /bdoc/profile`` describes it."""

    email: str
    name: str
    company: str


def build_edin_session(pool_size: int = DEFAULT_POOL_SIZE) -> requests.Session:
    """An HTTP session that never keeps cookies: the SID belongs to one account and is sent explicitly."""
    session = build_session(pool_size)
    # The transport may be shared by many pharmacies; a cookie jar would send one account's SID for another.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


class EdinClient:
    """Typed calls to EDIN over the shared transport; holds no credentials itself."""

    def __init__(
        self,
        base_url: str,
        *,
        recorder: Recorder = null_recorder,
        timeout: tuple[float, float] = (3.05, 15.0),
        session: requests.Session | None = None,
        breaker=None,
    ):
        self.transport = HttpTransport(
            provider=PROVIDER,
            base_url=base_url,
            recorder=recorder,
            timeout=timeout,
            session=session or build_edin_session(),
            breaker=breaker,
        )

    def request_login_token(self, email: str) -> LoginToken:
        """Step 1: send the email, get the login token (and the captcha flag)."""
        path = "/bdoc/auth_uuid"
        response = self.transport.send("login_token", "POST", path, files=_form(email=email))
        raise_for_status(self.transport, response)
        body = json_body(response)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not isinstance(body.get("isCaptcha", False), bool):
            raise self.transport.record_invalid_response(
                "login_token", "POST", path, response, "Step 1 answer has no token or isCaptcha flag", secrets=[token or ""]
            )
        return LoginToken(token=token, is_captcha=body.get("isCaptcha", False))

    def authenticate(self, token: str, password: str) -> str:
        """Step 2: send the token and password; return the session id (SID) EDIN sets as a cookie."""
        path = "/bdoc/auth"
        response = self.transport.send(
            "login", "POST", path, files=_form(token=token, password=password), secrets=[token, password]
        )
        sid = response.cookies.get("SID") or ""
        body = json_body(response)
        if response.status_code == 403 and isinstance(body, dict) and body.get("isCaptcha") is True:
            raise CaptchaRequired(CAPTCHA_MESSAGE, provider=PROVIDER, status_code=403)
        if response.status_code in (401, 403):
            raise AuthenticationError("EDIN refused the email or password.", provider=PROVIDER, status_code=response.status_code)
        raise_for_status(self.transport, response)
        if not sid:
            raise self.transport.record_invalid_response("login", "POST", path, response, "No SID cookie in the answer")
        return sid

    def login(self, email: str, password: str) -> str:
        """Both steps; return a fresh SID, or raise CaptchaRequired / AuthenticationError."""
        login_token = self.request_login_token(email)
        if login_token.is_captcha:
            raise CaptchaRequired(CAPTCHA_MESSAGE, provider=PROVIDER)
        return self.authenticate(login_token.token, password)

    def send_with_sid(self, operation: str, method: str, path: str, sid: str, **kwargs) -> requests.Response:
        """One call carrying ``Cookie: SID=...``; raise SessionExpired when EDIN says the session is gone."""
        headers = {**kwargs.pop("headers", {}), "Cookie": f"SID={sid}"}
        secrets = [sid, *kwargs.pop("secrets", [])]
        response = self.transport.send(operation, method, path, headers=headers, secrets=secrets, **kwargs)
        if response.status_code in SESSION_GONE_STATUSES:
            raise SessionExpired("The EDIN session has ended.", provider=PROVIDER, status_code=response.status_code)
        raise_for_status(self.transport, response)
        return response


class EdinSession:
    """An EDIN account's session: logs in when needed and, once per call, again when the SID has expired.

    ``on_sid_change(sid, used_at)`` is called whenever a new SID is obtained and
    after every successful call, so the owner can keep both for the next process.
    """

    def __init__(
        self,
        client: EdinClient,
        email: str,
        password: str,
        *,
        sid: str = "",
        used_at: float | None = None,
        idle_seconds: float = SESSION_IDLE_SECONDS,
        on_sid_change: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self.email = email
        self._password = password
        self.sid = sid
        self.used_at = used_at
        self.idle_seconds = idle_seconds
        self.on_sid_change = on_sid_change
        self.clock = clock

    def __repr__(self):
        return f"<EdinSession {self.email} {'with' if self.sid else 'without'} SID>"

    @property
    def is_fresh(self) -> bool:
        """Whether the SID can be expected to still be alive at EDIN."""
        return bool(self.sid) and self.used_at is not None and self.clock() - self.used_at < self.idle_seconds

    def login(self) -> str:
        """Log in now and keep the new SID."""
        self.sid = self.client.login(self.email, self._password)
        self._touch()
        return self.sid

    def request(self, operation: str, method: str, path: str, **kwargs) -> requests.Response:
        """An authenticated call; future EDIN features build on this one."""
        logged_in_now = False
        if not self.is_fresh:
            self.login()
            logged_in_now = True
        try:
            response = self.client.send_with_sid(operation, method, path, self.sid, **kwargs)
        except SessionExpired:
            if logged_in_now:
                # A SID fresh from login refused at once: logging in again would only loop.
                raise
            self.login()
            response = self.client.send_with_sid(operation, method, path, self.sid, **kwargs)
        self._touch()
        return response

    def profile(self) -> Profile:
        """Who the session is signed in as (also proves the session works)."""
        response = self.request("profile", "GET", "/bdoc/profile")
        body = json_body(response)
        if not isinstance(body, dict) or not isinstance(body.get("email"), str):
            raise self.client.transport.record_invalid_response(
                "profile", "GET", "/bdoc/profile", response, "Profile answer is not the expected JSON"
            )
        return Profile(email=body["email"], name=str(body.get("name") or ""), company=str(body.get("company") or ""))

    def _touch(self) -> None:
        self.used_at = self.clock()
        if self.on_sid_change:
            self.on_sid_change(self.sid, self.used_at)


def _form(**fields: str) -> dict[str, tuple[None, str]]:
    """Plain form fields sent as multipart/form-data, as EDIN requires (requests encodes ``files`` so)."""
    return {name: (None, value) for name, value in fields.items()}
