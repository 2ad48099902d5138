"""The onboarding overview on the admin index: jobs per state over the last day and week, and what needs attention."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from .models import Job, JobStatus

ATTENTION_LIMIT = 20


def jobs_overview(now=None) -> dict:
    """Counts per job state created in the last day and week (one query), and the jobs an administrator must look at."""
    now = now or timezone.now()
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    counts = {
        row["status"]: row
        for row in Job.objects.filter(created_at__gte=week)
        .values("status")
        .annotate(day=Count("id", filter=Q(created_at__gte=day)), week=Count("id"))
        .order_by()
    }
    states = []
    for status, label in JobStatus.choices:
        found = counts.get(status, {})
        states.append({"status": status, "label": label, "day": found.get("day", 0), "week": found.get("week", 0)})
    # Needs attention first (an administrator must settle them), then this week's failures; newest first in each.
    attention = list(
        Job.objects.filter(Q(status=JobStatus.NEEDS_ATTENTION) | Q(status=JobStatus.FAILED, updated_at__gte=week))
        .select_related("pharmacy", "user")
        .order_by("-status", "-updated_at")[:ATTENTION_LIMIT]
    )
    return {
        "states": states,
        "total_day": sum(s["day"] for s in states),
        "total_week": sum(s["week"] for s in states),
        "attention": attention,
        "attention_count": Job.objects.filter(status=JobStatus.NEEDS_ATTENTION).count(),
    }
