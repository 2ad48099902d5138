"""Bimedoc's settings: which server, the partner credentials, retries of job steps, the shared pace, bulk uploads."""

from portal.appconf import AppSettings, Setting

SERVERS = {
    "test": ("https://server-test.bimedoc.com", "https://app-test.bimedoc.com"),
    "production": ("https://server.bimedoc.com", "https://app.bimedoc.com"),
}


def _sandbox(path):
    def default(settings):
        from providers.sandbox.conf import conf as sandbox

        return f"{sandbox.URL.rstrip('/')}/{path}"

    return default


def _server(index):
    return lambda settings: SERVERS.get(conf.ENV, SERVERS["test"])[index]


def _positive(value, conf):
    return None if value > 0 else "must be a positive number of bytes."


def _shorter_than_the_visibility_timeout(value, conf):
    from django.conf import settings

    if value >= settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
        return "must be shorter than CELERY_VISIBILITY_TIMEOUT."
    return None


conf = AppSettings(
    "BIMEDOC",
    [
        Setting(
            "ENV",
            "test",
            str,
            "`test` or `production`: picks server-test/app-test or server/app.",
            check=lambda value, conf: None if value in SERVERS else "must be 'test' or 'production'.",
        ),
        Setting("BASE_URL", _server(0), str, "The partner API.", debug_default=_sandbox("bimedoc")),
        Setting("APP_URL", _server(1), str, "The app the SSO signs users in to.", debug_default=_sandbox("bimedoc-app")),
        Setting(
            "PARTNER_ID",
            "",
            str,
            "The partner id.",
            debug_default="00000000-0000-4000-8000-000000000000",
            required=True,
        ),
        Setting("API_KEY", "", str, "The partner API key (secret).", debug_default="sandbox-api-key", required=True),
        Setting("MAX_RETRIES", 5, int, "Retries of a job step after a transient failure (timeout, 5xx)."),
        Setting("RETRY_DELAY", 2.0, float, "The base (s) of the exponential backoff between retries, with jitter."),
        Setting(
            "RETRY_MAX_DELAY",
            300.0,
            float,
            "The longest wait (s) between two tries.",
            check=_shorter_than_the_visibility_timeout,
        ),
        Setting(
            "MAX_RPS",
            20.0,
            float,
            "Calls to Bimedoc in any one-second window, for all workers together (0: no limit).",
            check=lambda value, conf: None if value >= 0 else "must not be negative (0 turns the limit off).",
        ),
        Setting(
            "RATE_LIMIT_MAX_WAIT",
            10.0,
            float,
            "Seconds a call waits in its worker for a slot; past that its job waits in the queue.",
        ),
        Setting(
            "BULK_UPLOAD_MAX_BYTES",
            5_000_000,
            int,
            "Largest CSV file an administrator may upload for bulk onboarding (5,000 rows are about 0.8 MB).",
            check=_positive,
        ),
    ],
)
