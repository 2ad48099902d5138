"""The sandbox's latency is what its profile asks for, counted from when its server read the request; every request is counted."""

import time

import pytest
from django.http import JsonResponse
from django.test import RequestFactory

from providers.sandbox import faults


@pytest.fixture
def latency_200ms(db):
    faults.set_profile("bimedoc", faults.FaultProfile(latency_ms=200))
    yield
    faults.set_profile("bimedoc", None)


@faults.with_faults("bimedoc")
def answer(request):
    return JsonResponse({"ok": True})


def test_time_spent_before_the_view_counts_towards_the_latency(latency_200ms):
    # The server read the request 150 ms ago (its own handling, Django's): 50 ms of the 200 are left.
    request = RequestFactory().post("/", **{faults.ARRIVED: time.monotonic() - 0.150})
    started = time.monotonic()
    assert answer(request).status_code == 200
    assert 0.040 <= time.monotonic() - started < 0.150


def test_a_request_with_no_arrival_time_waits_the_whole_latency(latency_200ms):
    started = time.monotonic()
    assert answer(RequestFactory().post("/")).status_code == 200
    assert time.monotonic() - started >= 0.195


def test_every_request_is_counted_when_many_arrive_at_once_from_a_reset():
    from concurrent.futures import ThreadPoolExecutor

    faults.reset_requests("bimedoc")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: faults.count_request("bimedoc"), range(200)))
    assert faults.requests_received("bimedoc") == 200
    faults.reset_requests("bimedoc")
    assert faults.requests_received("bimedoc") == 0
