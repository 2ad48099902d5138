"""Soak: onboard N pharmacies through a faulty sandbox while a worker is killed; nothing may be lost or done twice.

The run: a sandbox process (``manage.py run_sandbox``) answers Bimedoc calls
with a share of them faulted (503s, stalls before and after acting that the
client's read timeout turns into unknown outcomes, connection resets after
acting, malformed bodies after acting); two Celery workers on Redis run the
onboarding jobs against this script's own PostgreSQL database; a few jobs are
created without their task ever being published (a crash between the commit
and the publish); the job sweep runs every few seconds; once part of the jobs
are done, one worker is killed with SIGKILL (its main process and its pool
children) and another one is started. When every job is final (or the time cap
is reached) it prints:

- jobs lost (accepted, but missing from the database);
- remote users and pharmacies created twice (the sandbox counts them);
- jobs not in a final state;
- calls without an audit record (requests the sandbox received minus the
  audit rows of calls sent);

which must all be 0, then the jobs per final status and the throughput. Exit
status 1 when one of the four counts is not 0. Loopback only; every process it
started is stopped at the end. The broker and cache Redis databases given are
flushed at the start and the database is dropped and created again.

    .venv/bin/python bench/soak.py --n 2000 \\
        --database-url postgres://postgres@127.0.0.1:5432/portal_soak \\
        --broker-url redis://127.0.0.1:6379/14 --cache-url rediscache://127.0.0.1:6379/15
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import flush_redis, reset_database, setup_django, stack_env, start_sandbox  # noqa: E402

FAULT_KINDS = ("error_rate", "timeout_before_rate", "timeout_after_rate", "reset_rate", "malformed_rate")
# Audit rows that are not a request the provider received: not sent (circuit open), or the second
# row of a call whose answer could not be read (the call itself has its own row).
NOT_SENT_OUTCOMES = ("circuit_open", "invalid_response")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="pharmacies to onboard (default 2000)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of calls faulted (default 0.2)")
    parser.add_argument("--latency-ms", type=float, default=10, help="sandbox latency per call (default 10)")
    parser.add_argument("--read-timeout", type=float, default=2.0, help="client read timeout, s (default 2)")
    parser.add_argument("--stall", type=float, default=3.0, help="sandbox stall on timeout faults, s (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=4, help="pool size per worker (default 4)")
    parser.add_argument("--pool", default="prefork", help="Celery pool: prefork or threads (default prefork)")
    parser.add_argument("--prefetch-multiplier", type=int, default=1, help="worker --prefetch-multiplier (default 1)")
    parser.add_argument(
        "--throttle-rate", type=float, default=0.0, help="share of calls answered 429 with Retry-After (default 0)"
    )
    parser.add_argument("--retry-after", type=float, default=1.0, help="the Retry-After of those answers, s (default 1)")
    parser.add_argument("--max-rps", type=float, default=0, help="BIMEDOC_MAX_RPS for the workers (default 0: off)")
    parser.add_argument("--kill-at", type=float, default=0.3, help="kill a worker when this share is final (default 0.3)")
    parser.add_argument("--unpublished", type=float, default=0.01, help="share of jobs never published (default 0.01)")
    parser.add_argument("--sweep-every", type=float, default=5.0, help="seconds between sweeps (default 5)")
    parser.add_argument("--port", type=int, default=8198, help="port of the sandbox process (default 8198)")
    parser.add_argument("--timeout", type=float, default=1800, help="time cap in seconds (default 1800)")
    parser.add_argument(
        "--database-url", default=os.environ.get("SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_soak")
    )
    parser.add_argument("--broker-url", default=os.environ.get("SOAK_BROKER_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--cache-url", default=os.environ.get("SOAK_CACHE_URL", "rediscache://127.0.0.1:6379/15"))
    args = parser.parse_args(argv)
    for name in ("database_url", "broker_url", "cache_url"):
        if "127.0.0.1" not in getattr(args, name) and "localhost" not in getattr(args, name):
            parser.error(f"--{name.replace('_', '-')} must be on loopback")
    return args


def fault_profile(rate: float, stall: float, latency_ms: float, throttle_rate: float = 0.0, retry_after: float = 1.0) -> dict:
    """``rate`` split evenly over the fault kinds, plus ``throttle_rate`` of 429s with Retry-After."""
    profile = {"latency_ms": latency_ms, "stall_seconds": stall, **{kind: rate / len(FAULT_KINDS) for kind in FAULT_KINDS}}
    if throttle_rate:
        profile.update(throttle_rate=throttle_rate, retry_after=retry_after)
    return profile


def worker_settings(read_timeout: float, sweep_grace: float = 30.0) -> dict:
    """Environment for the workers: short timeouts, retries and limits, so a soak ends in minutes."""
    return {
        "PROVIDER_CONNECT_TIMEOUT": "2",
        "PROVIDER_READ_TIMEOUT": str(read_timeout),
        "BIMEDOC_RETRY_DELAY": "0.5",
        "BIMEDOC_RETRY_MAX_DELAY": "8",
        "BIMEDOC_MAX_RETRIES": "8",
        "CIRCUIT_BREAKER_RESET_TIMEOUT": "3",
        "CELERY_TASK_SOFT_TIME_LIMIT": "25",
        "CELERY_TASK_TIME_LIMIT": "30",
        "JOB_RUNNING_STALE_AFTER": "40",
        "JOB_SWEEP_GRACE": str(sweep_grace),
    }


def reliability_counts(job_ids, state: dict) -> dict:
    """The four counts that must be 0, and the jobs per status, for these jobs and this sandbox state."""
    from onboarding.models import Job, OutboundCall

    found = dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "status"))
    statuses = Counter(found.values())
    final = {s.value if hasattr(s, "value") else s for s in Job.FINAL_STATUSES}
    sent = OutboundCall.objects.filter(provider="bimedoc").exclude(outcome__in=NOT_SENT_OUTCOMES).count()
    return {
        "jobs_lost": len(set(job_ids) - set(found)),
        "users_created_twice": state["users_created_twice"],
        "pharmacies_created_twice": state["pharmacies_created_twice"],
        "jobs_not_final": sum(n for s, n in statuses.items() if s not in final),
        "calls_without_audit_record": max(0, state["requests"] - sent),
        "statuses": dict(statuses),
        "calls_recorded": sent,
        "calls_received": state["requests"],
        "calls_in_flight": OutboundCall.objects.filter(provider="bimedoc", outcome="in_flight").count(),
    }


def must_be_zero(counts: dict) -> list[str]:
    keys = ("jobs_lost", "users_created_twice", "pharmacies_created_twice", "jobs_not_final", "calls_without_audit_record")
    return [key for key in keys if counts[key]]


def children_of(pid: int) -> list[int]:
    """The direct children of a process (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL a worker's main process and its pool children, as a crashed machine would."""
    children = children_of(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    for child in children:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def start_worker(
    env, name: str, concurrency: int, queues: str, log: Path, pool: str = "prefork", prefetch: int = 1
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "WARNING", "-n", f"{name}@%h",
         "-c", str(concurrency), "-P", pool, "--prefetch-multiplier", str(prefetch), "-Q", queues,
         "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=open(log, "ab"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill_hard(proc)


class Sweeper(threading.Thread):
    """Runs the job sweep every few seconds (what celery beat does in production)."""

    def __init__(self, every: float):
        super().__init__(daemon=True)
        self.every = every
        self.stopped = threading.Event()
        self.swept = 0

    def run(self):
        from django.db import connection

        from onboarding import jobs

        while not self.stopped.wait(self.every):
            try:
                self.swept += jobs.sweep()
            except Exception as exc:  # noqa: BLE001 - keep sweeping; say why it failed
                print(f"sweep failed: {exc}", file=sys.stderr)
        connection.close()


def main(argv=None) -> int:
    args = parse_args(argv)
    sandbox_url = f"http://127.0.0.1:{args.port}/sandbox"
    env = stack_env(
        port=args.port,
        database_url=args.database_url,
        broker_url=args.broker_url,
        cache_url=args.cache_url,
        log_level="ERROR",
        BIMEDOC_MAX_RPS=str(args.max_rps),
        PROVIDER_HTTP_POOL_SIZE=str(max(args.concurrency, 1)),
        **worker_settings(args.read_timeout),
    )
    reset_database(args.database_url)
    flush_redis(args.broker_url)
    flush_redis(args.cache_url)
    logs = setup_django(env)
    import requests

    from onboarding import jobs
    from onboarding import services as onboarding_services
    from onboarding.models import Job, OutboundCall
    from providers import conf as outbound_conf
    from providers.bimedoc import services
    from providers.bimedoc.conf import conf as bimedoc_conf

    processes: list[subprocess.Popen] = []
    sweeper = Sweeper(args.sweep_every)
    try:
        processes.append(start_sandbox(env, args.port, logs / "soak-sandbox.log"))
        requests.delete(f"{sandbox_url}/bimedoc/_state", timeout=10).raise_for_status()
        profile = fault_profile(args.fault_rate, args.stall, args.latency_ms, args.throttle_rate, args.retry_after)
        requests.put(f"{sandbox_url}/bimedoc/_faults", json=profile, timeout=5).raise_for_status()

        queues = "default,outbound"
        pool = (args.pool, args.prefetch_multiplier)
        workers = [
            start_worker(env, f"soak{i}-{uuid.uuid4().hex[:4]}", args.concurrency, queues, logs / "soak-worker.log", *pool)
            for i in range(args.workers)
        ]
        processes += workers
        sweeper.start()

        killed = False

        def maybe_kill() -> bool:
            """Once the given share of the jobs is final, SIGKILL the first worker and start another."""
            done = Job.objects.filter(pk__in=job_ids, status__in=Job.FINAL_STATUSES).count()
            if not killed and done >= args.kill_at * args.n:
                victim = workers[0]
                kill_hard(victim)
                workers[0] = start_worker(
                    env, f"soak-r-{uuid.uuid4().hex[:4]}", args.concurrency, queues, logs / "soak-worker.log", *pool
                )
                processes.append(workers[0])
                print(f"SIGKILLed worker {victim.pid} (and its children) at {done} final jobs; started another", flush=True)
                return True
            return killed

        run = uuid.uuid4().hex[:8]
        job_ids = []
        started = time.monotonic()
        unpublished_every = round(1 / args.unpublished) if args.unpublished > 0 else 0
        for i in range(args.n):
            user = onboarding_services.register_staff(
                email=f"soak-{run}-{i}@example.com",
                password=None,
                first_name="Soak",
                last_name=str(i),
                rpps_number=f"{i:011d}",
                gender="f",
            )
            # A crash between the commit and the publish: the job is saved, its task never sent.
            lost = unpublished_every and i % unpublished_every == 1
            with jobs.publishing(None) if lost else contextlib.nullcontext():
                job = services.start_onboarding(
                    titulaire=user,
                    profile={},
                    pharmacy_fields={"name": f"Soak {run} #{i}", "city": "Lyon", "postcode": "69001"},
                    idempotency_key=f"soak:{run}:{i}",
                )
            job_ids.append(job.pk)
            if i % 50 == 49:
                killed = maybe_kill()
        print(f"{args.n} jobs accepted in {time.monotonic() - started:.1f}s", flush=True)

        deadline = started + args.timeout
        last_report = 0.0
        while time.monotonic() < deadline:
            killed = maybe_kill()
            done = Job.objects.filter(pk__in=job_ids, status__in=Job.FINAL_STATUSES).count()
            if done == len(job_ids):
                break
            if time.monotonic() - last_report > 15:
                last_report = time.monotonic()
                print(
                    f"  {time.monotonic() - started:6.0f}s: {done}/{len(job_ids)} final, {sweeper.swept} re-enqueued",
                    flush=True,
                )
            time.sleep(1)
        elapsed = time.monotonic() - started
        state = requests.get(f"{sandbox_url}/bimedoc/_state", timeout=30).json()
        counts = reliability_counts(job_ids, state)
    finally:
        sweeper.stopped.set()
        for proc in reversed(processes):
            stop(proc)
        try:
            flush_redis(args.broker_url)
        except Exception:  # noqa: BLE001 - best effort
            pass

    final_jobs = sum(n for s, n in counts["statuses"].items() if s in {str(x) for x in Job.FINAL_STATUSES})
    print()
    throttled = f", {args.throttle_rate:.0%} answered 429 with Retry-After {args.retry_after:g}s" if args.throttle_rate else ""
    print(f"Soak: {args.n} pharmacies, {args.fault_rate:.0%} of calls faulted ({', '.join(FAULT_KINDS)}){throttled}, "
          f"read timeout {args.read_timeout}s, stall {args.stall}s, {args.workers} workers x {args.concurrency} "
          f"({args.pool}), one SIGKILLed: {'yes' if killed else 'no (ended first)'}")  # fmt: skip
    print(f"  jobs lost:                   {counts['jobs_lost']}")
    print(f"  users created twice:         {counts['users_created_twice']}")
    print(f"  pharmacies created twice:    {counts['pharmacies_created_twice']}")
    print(f"  jobs not in a final state:   {counts['jobs_not_final']}")
    print(f"  calls without audit record:  {counts['calls_without_audit_record']}"
          f" ({counts['calls_received']} received by the sandbox, {counts['calls_recorded']} recorded,"
          f" {counts['calls_in_flight']} left in flight by the killed worker)")  # fmt: skip
    for status in ("succeeded", "failed", "needs_attention"):
        print(f"  {status + ':':28} {counts['statuses'].get(status, 0)}")
    print(f"  re-enqueued by the sweep:    {sweeper.swept}")
    print(f"  duplicate-email answers:     {state['duplicate_user_attempts']} (resends reconciled)")
    if args.throttle_rate:
        answered_429 = OutboundCall.objects.filter(provider="bimedoc", status_code=429).count()
        print(f"  answered 429 (Retry-After):  {answered_429}")
    print(f"  throughput:                  {final_jobs / elapsed:.1f} jobs/s ({final_jobs} final jobs in {elapsed:.0f}s)")
    print(f"  settings: retry cap {bimedoc_conf.MAX_RETRIES}, breaker {outbound_conf.circuit_breaker.FAIL_MAX} failures"
          f" / {outbound_conf.circuit_breaker.RESET_TIMEOUT}s")  # fmt: skip
    bad = must_be_zero(counts)
    if bad:
        print(f"NOT ZERO: {', '.join(bad)}")
        return 1
    print("All four counts are 0.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
