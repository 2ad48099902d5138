"""EDIN's settings: the server, how long a session may sit idle, retries of a connection check."""

from portal.appconf import AppSettings, Setting


def _sandbox(settings):
    from providers.sandbox.conf import conf as sandbox

    return f"{sandbox.URL.rstrip('/')}/edin"


conf = AppSettings(
    "EDIN",
    [
        Setting("BASE_URL", "https://doc.edin.ua", str, "The EDIN server.", debug_default=_sandbox),
        Setting(
            "SESSION_IDLE_SECONDS",
            600,
            int,
            "Seconds a SID may sit unused before the portal logs in again rather than trying it (EDIN: 10 minutes).",
        ),
        Setting("VERIFY_MAX_RETRIES", 3, int, "Retries of a connection check while EDIN cannot be reached."),
        Setting("VERIFY_RETRY_DELAY", 5.0, float, "The base (s) of the backoff between two connection checks."),
    ],
)
