"""The outbound worker: one shared pace for every worker (BIMEDOC_MAX_RPS), Retry-After honoured by all, connections kept.

The limiter's own behaviour is checked against real Redis; the end-to-end tests
run real Celery worker processes against a standalone sandbox process
(``manage.py run_sandbox --arrivals``), which logs the time every request
reached it: what the provider saw, not what the portal meant to send.
"""

import bisect
import threading
import time

import pytest
import requests
from django.db import connection

from onboarding.models import Job, JobStatus, OutboundCall
from providers import conf as outbound_conf
from providers.bimedoc import services
from providers.http import RateLimiter, Throttled
from tests.conftest import start_sandbox_process, start_worker, stop_worker, tasks_routed_to
from tests.providers.bimedoc.conftest import make_staff

QUEUE = "pace"


def max_in_one_second(stamps) -> int:
    stamps = sorted(stamps)
    return max((bisect.bisect_left(stamps, t + 1.0) - i for i, t in enumerate(stamps)), default=0)


@pytest.fixture
def limiter_storage(settings):
    if not outbound_conf.rate_limit.STORAGE_URL.startswith("redis"):
        pytest.skip("the shared pace needs Redis (CACHE_URL=rediscache://...)")
    return outbound_conf.rate_limit.STORAGE_URL


# --- The limiter, shared through Redis -------------------------------------------------------


def test_two_limiters_on_one_redis_share_one_pace(limiter_storage):
    # Two processes' limiters: same provider, same Redis.
    limiters = [RateLimiter("pace-test", max_rps=5, storage_uri=limiter_storage, max_wait=10) for _ in range(2)]
    stamps, lock = [], threading.Lock()

    def caller(limiter):
        for _ in range(4):
            limiter.acquire()
            with lock:
                stamps.append(time.time())

    threads = [threading.Thread(target=caller, args=(limiters[i % 2],)) for i in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(stamps) == 16
    assert max_in_one_second(stamps) <= 5
    # 16 calls at 5 per second: the last ones had to wait for the third window.
    assert time.monotonic() - started >= 2.0


def test_no_slot_within_the_wait_raises_throttled_with_the_time_to_wait(limiter_storage):
    limiter = RateLimiter("pace-test-2", max_rps=2, storage_uri=limiter_storage, max_wait=0.2)
    limiter.acquire()
    limiter.acquire()
    with pytest.raises(Throttled) as raised:
        limiter.acquire()
    assert 0.5 < raised.value.retry_after <= 1.1


def test_a_pause_stops_every_limiter_of_the_provider(limiter_storage):
    one = RateLimiter("pace-test-3", max_rps=0, storage_uri=limiter_storage, max_wait=0.1)
    other = RateLimiter("pace-test-3", max_rps=0, storage_uri=limiter_storage, max_wait=5)
    one.pause(1.5)
    one.pause(0.2)  # a shorter pause asked later does not shorten the first
    assert 1.2 < other.paused_for() <= 1.5
    with pytest.raises(Throttled):
        one.acquire()
    started = time.monotonic()
    other.acquire()  # waits the pause out
    assert time.monotonic() - started >= 1.2


# --- End to end: real workers, a standalone sandbox ---------------------------------------------


@pytest.fixture
def pace_queue(settings):
    """Route the provider tasks of this test (and their retries) to a queue only its workers consume."""
    with tasks_routed_to(QUEUE, settings):
        yield


@pytest.fixture
def standalone_sandbox(worker_env, transactional_db, tmp_path, limiter_storage):
    """``manage.py run_sandbox`` on its own port, logging arrivals; yields (base URL, arrival times of API calls)."""
    arrivals = tmp_path / "arrivals.log"
    proc, base = start_sandbox_process(worker_env, "--arrivals", str(arrivals))

    def api_arrivals():
        lines = arrivals.read_text().splitlines() if arrivals.exists() else []
        return [float(line.split(" ", 1)[0]) for line in lines if "/bimedoc/auth/" in line]

    yield base, api_arrivals
    proc.terminate()
    proc.wait(timeout=10)


def _workers(worker_env, sandbox_base, count, **settings_env):
    env = {
        **worker_env,
        "SANDBOX_URL": sandbox_base,
        "BIMEDOC_BASE_URL": f"{sandbox_base}/bimedoc",
        "BIMEDOC_RETRY_DELAY": "0.2",
        **settings_env,
    }
    return [start_worker(env, name=f"pace{i}", concurrency=4, log_name="pace-worker.log") for i in range(count)]


def _start(n, prefix):
    job_ids = []
    for i in range(n):
        user = make_staff(f"{prefix}{i}@example.com", rpps_number=f"{i:011d}")
        job = services.start_onboarding(
            titulaire=user, profile={}, pharmacy_fields={"name": f"Pharmacie {prefix} {i}"}, idempotency_key=f"{prefix}{i}"
        )
        job_ids.append(job.pk)
    return job_ids


def _wait_final(job_ids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Job.objects.filter(pk__in=job_ids, status__in=Job.FINAL_STATUSES).count() == len(job_ids):
            return
        time.sleep(0.2)
    raise AssertionError(f"jobs not final after {timeout} s: {list(Job.objects.filter(pk__in=job_ids).values('status'))}")


@pytest.mark.worker
def test_two_workers_never_send_more_than_max_rps_in_any_second(worker_env, standalone_sandbox, pace_queue, settings):
    base, arrivals = standalone_sandbox
    workers = _workers(worker_env, base, 2, BIMEDOC_MAX_RPS="4")
    try:
        job_ids = _start(10, "paced")
        _wait_final(job_ids, timeout=60)
    finally:
        for proc in workers:
            stop_worker(proc)
    jobs = list(Job.objects.filter(pk__in=job_ids))
    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    seen = arrivals()
    assert len(seen) == 20
    # 8 task slots over two processes would send 8 at once: the sandbox never saw more than 4 in a second.
    assert max_in_one_second(seen) <= 4
    # 20 calls at 4 a second: the last four left at least four seconds after the first four.
    assert sorted(seen)[-1] - sorted(seen)[0] >= 4
    # Waiting for a slot cost no retry.
    assert all(step.get("failures", 0) == 0 for job in jobs for step in job.steps.values())


@pytest.mark.worker
def test_retry_after_makes_the_job_wait_and_pauses_every_caller(worker_env, standalone_sandbox, pace_queue, settings):
    base, arrivals = standalone_sandbox
    requests.put(f"{base}/bimedoc/_faults", json={"throttle_rate": 1, "retry_after": 4}, timeout=5).raise_for_status()
    workers = _workers(worker_env, base, 1, BIMEDOC_MAX_RPS="0", BIMEDOC_MAX_RETRIES="1")
    limiter = RateLimiter(services.PROVIDER, max_rps=0, storage_uri=outbound_conf.rate_limit.STORAGE_URL)
    try:
        (first,) = _start(1, "throttled")
        deadline = time.monotonic() + 20
        while Job.objects.get(pk=first).status != JobStatus.WAITING and time.monotonic() < deadline:
            time.sleep(0.05)
        (answered_429,) = arrivals()
        job = Job.objects.get(pk=first)
        assert job.status == JobStatus.WAITING, job.error
        assert "asked the portal to slow down" in job.error
        assert (job.due_at - job.updated_at).total_seconds() >= 4
        # Every caller of Bimedoc, in every process, waits too.
        assert limiter.paused_for() > 3
        requests.delete(f"{base}/bimedoc/_faults", timeout=5).raise_for_status()
        others = _start(3, "behind")
        _wait_final([first, *others], timeout=60)
    finally:
        for proc in workers:
            stop_worker(proc)
    seen = sorted(arrivals())
    assert len(seen) == 1 + 2 * 4
    # Nobody called Bimedoc again before its Retry-After was over: not the job, not the ones started meanwhile.
    assert seen[1] - answered_429 >= 4, "a call left before Retry-After was over"
    jobs = list(Job.objects.filter(pk__in=[first, *others]))
    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    # The wait was not a failed try: one retry allowed, none used.
    assert all(step.get("failures", 0) == 0 for job in jobs for step in job.steps.values())
    assert OutboundCall.objects.filter(job_id=first, status_code=429).count() == 1


# --- Database connections ----------------------------------------------------------------------


def sessions_opened() -> int:
    """Sessions PostgreSQL has opened on the test database so far (its statistics, PostgreSQL 14+)."""
    time.sleep(1.5)  # backends report their statistics about once a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.worker
def test_a_threads_pool_worker_reuses_its_database_connections_between_tasks(worker_env, standalone_sandbox, pace_queue):
    if connection.pg_version < 140000:
        pytest.skip("pg_stat_database.sessions needs PostgreSQL 14")
    # The standalone sandbox keeps HTTP connections alive: its threads, and their database sessions, last too.
    base, _arrivals = standalone_sandbox
    env = {**worker_env, "SANDBOX_URL": base, "BIMEDOC_BASE_URL": f"{base}/bimedoc"}
    worker = start_worker(env, name="connections", concurrency=2, log_name="connections-worker.log", pool="threads")
    try:
        users = [make_staff(f"reuse{i}@example.com", rpps_number=f"{i:011d}") for i in range(10)]

        def onboard(batch):
            ids = [
                services.start_onboarding(
                    titulaire=u, profile={}, pharmacy_fields={"name": f"Pharmacie {u.pk}"}, idempotency_key=u.email
                ).pk
                for u in batch
            ]
            deadline = time.monotonic() + 60
            while Job.objects.filter(pk__in=ids, status=JobStatus.SUCCEEDED).count() < len(ids):
                assert time.monotonic() < deadline, "jobs did not finish"
                time.sleep(0.2)

        onboard(users[:2])  # each thread opens its connection (and its kept-alive HTTP connection)
        before = sessions_opened()
        onboard(users[2:])
        opened = sessions_opened() - before
    finally:
        stop_worker(worker)
    # 8 tasks: closing the connection around every task would open at least 8 sessions.
    assert opened <= 2, f"{opened} database sessions opened for 8 tasks on 2 threads"
