from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import health
from onboarding.models import OutboundCall, User

pytestmark = pytest.mark.django_db


def call(provider, outcome, duration, minutes_ago, status=200):
    OutboundCall.objects.create(
        provider=provider,
        operation="op",
        method="POST",
        path="/x",
        status_code=status,
        outcome=outcome,
        duration_ms=duration,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_health_counts_success_rate_and_percentiles_per_provider():
    for i in range(1, 101):
        call("bimedoc", "success", float(i), minutes_ago=30)
    for _ in range(25):
        call("bimedoc", "server_error", 5.0, minutes_ago=30, status=503)
    call("edin", "success", 40.0, minutes_ago=60 * 30)  # outside a 24 h window
    stats = {h.provider: h for h in health.provider_health("24h")}
    assert "edin" not in stats
    bimedoc = stats["bimedoc"]
    assert bimedoc.calls == 125 and bimedoc.failures == 25
    assert bimedoc.success_rate == pytest.approx(80.0)
    assert bimedoc.p50 < bimedoc.p95 <= bimedoc.p99 <= 100.0
    busy = [b for b in bimedoc.buckets if b.calls]
    assert len(busy) == 1 and busy[0].calls == 125


def test_chart_points_scale_into_the_box_and_skip_gaps():
    assert health.chart_points([0.0, None, 50.0, 100.0], 300, 100, top=100) == "0.0,100.0 200.0,50.0 300.0,0.0"
    assert health.chart_points([None, None], 300, 100) == ""


def test_admin_health_page_shows_each_provider_with_charts(client):
    client.force_login(User.objects.create_superuser(email="admin@example.com", password="pw-123456789"))
    call("edin", "success", 12.0, minutes_ago=5)
    call("edin", "timeout", 15000.0, minutes_ago=5, status=None)
    response = client.get(reverse("admin:onboarding_provider_health"), {"window": "1h"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "EDIN" in body and "50.0 % successful" in body
    assert body.count("<polyline") >= 4
    assert (
        reverse("admin:onboarding_provider_health")
        in client.get(reverse("admin:onboarding_outboundcall_changelist")).content.decode()
    )
