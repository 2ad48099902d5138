"""Helpers for tests of staff accounts: TOTP codes computed like an authenticator app, links read from email."""

import re
import time
from urllib.parse import urlsplit

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

LINK_RE = re.compile(r"https?://\S+")


def totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows for ``secret`` now (RFC 6238, 30 s, 6 digits)."""
    return format_hotp_value(hotp_value(secret, int(at if at is not None else time.time()) // 30))


def links_in(text: str) -> list[str]:
    return LINK_RE.findall(text)


def path_of(url: str) -> str:
    """The path of a link in an email (the host is PUBLIC_BASE_URL, the test server listens elsewhere)."""
    return urlsplit(url).path
