"""Provider health from the audit trail: success rate and latency percentiles over time."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from providers import breaker

from .models import OutboundCall, Provider

WINDOWS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
BUCKETS = 24
FAILURES = ("server_error", "timeout", "connection_error", "invalid_response")


@dataclass(kw_only=True)
class CallStats:
    calls: int = 0
    failures: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None

    @property
    def success_rate(self) -> float | None:
        return None if not self.calls else 100.0 * (self.calls - self.failures) / self.calls


@dataclass(kw_only=True)
class Bucket(CallStats):
    start: datetime


@dataclass(kw_only=True)
class ProviderHealth(CallStats):
    provider: str
    label: str
    available: bool
    retry_in: float
    buckets: list[Bucket] = field(default_factory=list)


def _percentiles(durations: list[float]) -> tuple[float | None, float | None, float | None]:
    if not durations:
        return None, None, None
    if len(durations) == 1:
        return durations[0], durations[0], durations[0]
    cuts = statistics.quantiles(durations, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def provider_health(window: str = "24h", now: datetime | None = None) -> list[ProviderHealth]:
    """Per provider: totals and BUCKETS equal time buckets over the window (calls actually sent only)."""
    now = now or timezone.now()
    span = WINDOWS.get(window, WINDOWS["24h"])
    since = now - span
    step = span / BUCKETS
    rows = (
        OutboundCall.objects.filter(created_at__gte=since, created_at__lte=now)
        .exclude(outcome__in=("circuit_open", "in_flight"))
        .values_list("provider", "created_at", "outcome", "duration_ms")
        .order_by()
    )
    per_bucket: dict[str, list[list[tuple[str, float]]]] = {}
    for provider, created_at, outcome, duration in rows.iterator(chunk_size=5000):
        index = min(int((created_at - since) / step), BUCKETS - 1)
        per_bucket.setdefault(provider, [[] for _ in range(BUCKETS)])[index].append((outcome, duration))
    result = []
    for provider, label in Provider.choices:
        buckets_data = per_bucket.get(provider, [[] for _ in range(BUCKETS)])
        health = ProviderHealth(
            provider=provider,
            label=str(label),
            available=breaker.is_available(provider),
            retry_in=breaker.seconds_until_retry(provider),
        )
        all_durations = []
        for i, calls in enumerate(buckets_data):
            durations = [d for _, d in calls]
            bucket = Bucket(start=since + i * step, calls=len(calls), failures=sum(o in FAILURES for o, _ in calls))
            bucket.p50, bucket.p95, bucket.p99 = _percentiles(durations)
            health.buckets.append(bucket)
            health.calls += bucket.calls
            health.failures += bucket.failures
            all_durations.extend(durations)
        health.p50, health.p95, health.p99 = _percentiles(all_durations)
        if health.calls or not health.available:
            result.append(health)
    return result


def chart_coordinates(values: list[float | None], width: int, height: int, top: float | None = None) -> list[tuple[str, str]]:
    """The (x, y) of each known value of a series (None = no data, skipped), scaled to the box."""
    known = [v for v in values if v is not None]
    if not known:
        return []
    top = top or max(known) or 1.0
    step = width / max(len(values) - 1, 1)
    return [(f"{i * step:.1f}", f"{height - (v / top) * height:.1f}") for i, v in enumerate(values) if v is not None]


def polyline(coordinates: list[tuple[str, str]]) -> str:
    """SVG polyline points through the coordinates."""
    return " ".join(f"{x},{y}" for x, y in coordinates)


def chart_points(values: list[float | None], width: int, height: int, top: float | None = None) -> str:
    """SVG polyline points for a series (None = no data, skipped), scaled to the box."""
    return polyline(chart_coordinates(values, width, height, top))
