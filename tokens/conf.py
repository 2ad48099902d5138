"""The access tokens' settings (``ACCESS_TOKEN_*``), read as ``tokens.conf.NAME``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from portal.appconf import AppSettings, Setting, debug_process, positive

_END = "-----END PRIVATE KEY-----"


KEYS_REQUIRED = "ACCESS_TOKEN_SIGNING_KEYS (or _FILES) must be set when DJANGO_DEBUG is false."


def _keys_present(value, conf):
    # Only a debug process may sign with the development key (tokens.access refuses it otherwise).
    return KEYS_REQUIRED if not signing_pems() and not debug_process() else None


conf = AppSettings(
    "ACCESS_TOKEN",
    [
        Setting(
            "SIGNING_KEYS",
            "",
            str,
            "PEM P-256 private keys (a literal \\n stands for a line break): the first signs, all verify.",
            check=_keys_present,
        ),
        Setting("SIGNING_KEY_FILES", [], list, "Files holding such keys (comma-separated), after SIGNING_KEYS."),
        Setting(
            "ISSUER",
            lambda settings: settings.PUBLIC_BASE_URL,
            str,
            "The tokens' iss and the metadata's issuer (RFC 8414): the portal's public URL.",
        ),
        Setting("AUDIENCE", "urn:pharmacy-portal:api", str, "The aud of tokens presented to the portal's own APIs."),
        Setting("LIFETIME", 3600, int, "Seconds a provider's access token lives.", check=positive),
        Setting("LEEWAY", 5, int, "Seconds of clock skew allowed on exp and nbf."),
    ],
)


def signing_pems() -> tuple[str, ...]:
    """The configured private keys (PEM), from SIGNING_KEYS then SIGNING_KEY_FILES."""
    raw = conf.SIGNING_KEYS
    return _pems(tuple(raw) if isinstance(raw, list | tuple) else raw, tuple(conf.SIGNING_KEY_FILES))


@lru_cache(maxsize=8)
def _pems(raw: str | tuple[str, ...], files: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(raw, tuple):  # a Django setting may list them already (tests do)
        pems = list(raw)
    else:
        pems = [k.strip() + f"\n{_END}\n" for k in raw.replace("\\n", "\n").split(_END) if k.strip()]
    return tuple(pems + [Path(p).read_text() for p in files if p])
