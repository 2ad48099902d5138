"""The Bimedoc app's own settings (see portal/appconf.py)."""

from portal.appconf import AppSettings, Setting


def _positive(value, conf):
    return None if value > 0 else "must be a positive number of bytes."


conf = AppSettings(
    "BIMEDOC",
    [
        Setting(
            "BULK_UPLOAD_MAX_BYTES",
            5_000_000,
            int,
            "Largest CSV file an administrator may upload for bulk onboarding (5,000 rows are about 0.8 MB).",
            check=_positive,
        ),
    ],
)
