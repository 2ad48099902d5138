"""The simulated EDIN's state, kept in the cache so every process serving the sandbox shares it.

Known accounts (always there; more can be added at ``POST /sandbox/edin/_accounts``, for a day,
at most 1000 a day):

- ``apteka@edin.test`` / ``edin-sandbox-pass``
- ``pharmacie@edin.test`` / ``edin-sandbox-pass``

Behaviour, tunable by settings and at run time at ``/sandbox/edin/_control``:

- ``idle_seconds`` (``EDIN_SANDBOX_IDLE_SECONDS``, default 600): a SID unused for longer is gone (401);
- ``captcha_after`` (``EDIN_SANDBOX_CAPTCHA_AFTER``, default 3): after this many wrong passwords in a
  row for an email, step 1 answers ``isCaptcha: true`` until the user signs in on the simulated site
  (``/sandbox/edin/``) with the captcha box ticked.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import asdict, dataclass, fields

from django.core.cache import cache
from django.utils.crypto import constant_time_compare

from providers.sandbox.conf import edin as edin_sandbox

KNOWN_ACCOUNTS = {
    "apteka@edin.test": {"password": "edin-sandbox-pass", "name": "Олена Коваленко", "company": "Аптека «Здоров'я»"},
    "pharmacie@edin.test": {"password": "edin-sandbox-pass", "name": "Claire Dupont", "company": "Pharmacie du Centre"},
}
# Accounts added at run time expire, and at most MAX_ADDED_ACCOUNTS are added per ACCOUNT_LIFETIME.
ACCOUNT_LIFETIME = 24 * 3600
MAX_ADDED_ACCOUNTS = 1000
TOKEN_LIFETIME = 300
FAILURE_MEMORY = 3600
SESSION_MEMORY = 24 * 3600

_KEY = "sandbox:edin:{}"


@dataclass
class Control:
    """Run-time behaviour of the simulator."""

    idle_seconds: float
    captcha_after: int

    @classmethod
    def defaults(cls) -> Control:
        return cls(idle_seconds=float(edin_sandbox.IDLE_SECONDS), captcha_after=edin_sandbox.CAPTCHA_AFTER)

    @classmethod
    def from_dict(cls, data: dict) -> Control:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"Unknown settings: {', '.join(sorted(unknown))}")
        merged = {**asdict(get_control()), **data}
        control = cls(idle_seconds=float(merged["idle_seconds"]), captcha_after=int(merged["captcha_after"]))
        if control.idle_seconds <= 0 or control.captcha_after < 1:
            raise ValueError("idle_seconds must be positive and captcha_after at least 1")
        return control


def get_control() -> Control:
    data = cache.get(_KEY.format("control"))
    return Control(**data) if data else Control.defaults()


def set_control(control: Control | None) -> None:
    if control is None:
        cache.delete(_KEY.format("control"))
    else:
        cache.set(_KEY.format("control"), asdict(control), timeout=None)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def get_account(email: str) -> dict | None:
    email = normalize_email(email)
    return cache.get(_KEY.format(f"account:{email}")) or KNOWN_ACCOUNTS.get(email)


class TooManyAccounts(Exception):
    pass


def add_account(email: str, password: str, name: str = "", company: str = "") -> None:
    """Add (or replace) a test account for ACCOUNT_LIFETIME seconds; TooManyAccounts past the bound."""
    count_key = _KEY.format("accounts-added")
    cache.add(count_key, 0, timeout=ACCOUNT_LIFETIME)
    try:
        added = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=ACCOUNT_LIFETIME)
        added = 1
    if added > MAX_ADDED_ACCOUNTS:
        raise TooManyAccounts
    cache.set(
        _KEY.format(f"account:{normalize_email(email)}"),
        {"password": password, "name": name, "company": company},
        timeout=ACCOUNT_LIFETIME,
    )


def check_password(email: str, password: str) -> bool:
    account = get_account(email)
    return account is not None and constant_time_compare(account["password"], password)


def failures(email: str) -> int:
    return cache.get(_KEY.format(f"failures:{normalize_email(email)}"), 0)


def add_failure(email: str) -> int:
    key = _KEY.format(f"failures:{normalize_email(email)}")
    cache.add(key, 0, timeout=FAILURE_MEMORY)
    return cache.incr(key)


def clear_failures(email: str) -> None:
    cache.delete(_KEY.format(f"failures:{normalize_email(email)}"))


def captcha_required(email: str) -> bool:
    return failures(email) >= get_control().captcha_after


def issue_login_token(email: str, captcha: bool) -> str:
    token = str(uuid.uuid4())
    cache.set(_KEY.format(f"token:{token}"), {"email": normalize_email(email), "captcha": captcha}, timeout=TOKEN_LIFETIME)
    return token


def take_login_token(token: str) -> dict | None:
    """The step-1 data for a token, which can be used once."""
    key = _KEY.format(f"token:{token}")
    data = cache.get(key)
    cache.delete(key)
    return data


def _generation() -> int:
    return cache.get(_KEY.format("generation"), 0)


def open_session(email: str) -> str:
    sid = secrets.token_hex(16)
    cache.set(
        _KEY.format(f"sid:{sid}"),
        {"email": normalize_email(email), "seen": time.time(), "generation": _generation()},
        timeout=SESSION_MEMORY,
    )
    return sid


def use_session(sid: str) -> str | None:
    """The email signed in with this SID, marking it used now; None when the session is gone."""
    if not sid:
        return None
    key = _KEY.format(f"sid:{sid}")
    data = cache.get(key)
    if not data:
        return None
    if data["generation"] != _generation() or time.time() - data["seen"] > get_control().idle_seconds:
        cache.delete(key)
        return None
    data["seen"] = time.time()
    cache.set(key, data, timeout=SESSION_MEMORY)
    return data["email"]


def end_all_sessions() -> None:
    """Forget every SID at once (as when EDIN restarts)."""
    key = _KEY.format("generation")
    cache.add(key, 0, timeout=None)
    cache.incr(key)
