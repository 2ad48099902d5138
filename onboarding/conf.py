"""The onboarding domain's settings: the job engine's sweep and the invitations' lifetime."""

from portal.appconf import AppSettings, Setting


def _longer_than_the_task_time_limit(value, conf):
    from django.conf import settings

    if value <= settings.CELERY_TASK_TIME_LIMIT:
        return "must be longer than CELERY_TASK_TIME_LIMIT."
    return None


conf = AppSettings(
    "JOB",
    [
        Setting("SWEEP_INTERVAL", 60.0, float, "Seconds between two sweeps for jobs left behind."),
        Setting(
            "SWEEP_GRACE", 120.0, float, "Seconds past its due time before a pending or waiting job is re-enqueued."
        ),
        Setting(
            "RUNNING_STALE_AFTER",
            lambda settings: settings.CELERY_TASK_TIME_LIMIT + 30,
            float,
            "Seconds a job may stay running before the sweep takes it for lost (its worker died).",
            check=_longer_than_the_task_time_limit,
        ),
    ],
)

invitations = AppSettings(
    "INVITATION",
    [
        Setting(
            "LIFETIME_DAYS",
            7,
            int,
            "Days an invitation to join a pharmacy stays open.",
            check=lambda value, conf: None if value >= 1 else "must be at least 1.",
        ),
    ],
)
