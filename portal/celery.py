"""The Celery application; configuration lives in settings under CELERY_*."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Celery's Django fixup closes every database connection before and after each task, so that
# every task opened a new PostgreSQL connection (a new backend process). Reuse them as Django
# does between requests instead: close only those past CONN_MAX_AGE or broken. Each thread of a
# threads pool keeps its own connection. (CELERY_DB_REUSE_MAX in settings keeps the fixup out.)
@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender=None, **kwargs):
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run in-process, inside its caller's request or transaction: not the task's to close
    from django.db import close_old_connections

    close_old_connections()
