"""bench/soak.py's scenario, shorter: onboardings through a faulty sandbox while a real worker is SIGKILLed.

Two real Celery workers on Redis (their own queue, so no other worker of the
session takes their tasks) run 36 onboardings against the sandbox on the live
server with ~20% of calls faulted; a few jobs are never published; one worker
is killed with SIGKILL mid-run (with its pool children) and replaced; the sweep
runs every second. Then: no job lost, none left unfinished, nothing created
twice at Bimedoc, every request Bimedoc received on record.
"""

import contextlib
import time

import pytest
import requests

from bench.soak import fault_profile, kill_hard, must_be_zero, reliability_counts, worker_settings
from onboarding import jobs
from onboarding.models import Job
from providers.bimedoc import services
from tests.conftest import start_worker, stop_worker, tasks_routed_to
from tests.providers.bimedoc.conftest import make_staff

pytestmark = pytest.mark.worker

N = 36
QUEUE = "soak"


@pytest.fixture
def soak_queue(settings):
    """Route the job and provider tasks of this test (and their retries) to a queue only its workers consume."""
    with tasks_routed_to(QUEUE, settings):
        yield


@pytest.mark.parametrize(
    "pool, concurrency, throttle_rate",
    [("prefork", 2, 0.0), ("threads", 8, 0.03)],
    ids=["prefork", "threads-and-429s"],
)
def test_soak_faults_and_a_killed_worker_lose_nothing(
    worker_env, bimedoc_sandbox, soak_queue, settings, monkeypatch, pool, concurrency, throttle_rate
):
    """The recommended outbound pool (threads), with Bimedoc also answering 429 with Retry-After, loses nothing either."""
    env = {**worker_env, **worker_settings(read_timeout=0.5, sweep_grace=2)}
    env.update(
        BIMEDOC_RETRY_DELAY="0.2",
        BIMEDOC_RETRY_MAX_DELAY="2",
        CIRCUIT_BREAKER_RESET_TIMEOUT="1",
        CELERY_TASK_SOFT_TIME_LIMIT="8",
        CELERY_TASK_TIME_LIMIT="10",
        JOB_RUNNING_STALE_AFTER="12",
    )
    settings.JOB_SWEEP_GRACE = 2
    settings.JOB_RUNNING_STALE_AFTER = 12
    requests.delete(f"{bimedoc_sandbox}/_state", timeout=5)
    profile = fault_profile(0.2, 0.8, 5, throttle_rate=throttle_rate, retry_after=1)
    requests.put(f"{bimedoc_sandbox}/_faults", json=profile, timeout=5).raise_for_status()
    workers = [
        start_worker(env, name=f"soak{i}", concurrency=concurrency, log_name="soak-worker.log", pool=pool) for i in range(2)
    ]  # fmt: skip
    try:
        job_ids = []
        for i in range(N):
            user = make_staff(f"soak{i}@example.com", rpps_number=f"{i:011d}", last_name=f"Soak {i}")
            # Every 12th job: saved, but its task is never published (a crash between commit and publish).
            with jobs.publishing(None) if i % 12 == 5 else contextlib.nullcontext():
                job = services.start_onboarding(
                    titulaire=user, profile={}, pharmacy_fields={"name": f"Pharmacie {i}"}, idempotency_key=f"soak{i}"
                )
            job_ids.append(job.pk)

        killed = False
        deadline = time.monotonic() + 100
        while time.monotonic() < deadline:
            done = Job.objects.filter(pk__in=job_ids, status__in=Job.FINAL_STATUSES).count()
            if not killed and done >= N // 4:
                kill_hard(workers[0])
                workers[0] = start_worker(
                    env, name="soak-replacement", concurrency=concurrency, log_name="soak-worker.log", pool=pool
                )
                killed = True
            if done == N:
                break
            jobs.sweep()
            time.sleep(1)
        state = requests.get(f"{bimedoc_sandbox}/_state", timeout=5).json()
        counts = reliability_counts(job_ids, state)
    finally:
        for proc in workers:
            stop_worker(proc)
    assert killed
    assert must_be_zero(counts) == [], counts
    assert sum(counts["statuses"].values()) == N
    assert counts["calls_received"] >= 2 * counts["statuses"].get("succeeded", 0)
    assert counts["statuses"].get("succeeded", 0) > N // 3, counts
