"""Onboarding throughput: N pharmacies through the sandbox with latency L and worker concurrency C.

Each onboarding is two sequential Bimedoc calls (create user, create pharmacy),
so C workers cannot do better than C / (2 L) pharmacies per second. The bench
queues N onboarding jobs, then starts a Celery worker with concurrency C and a
separate sandbox process (``manage.py run_sandbox``) answering after L ms, and
prints the throughput against that limit and the portal's own overhead per
call (time a job spends outside the HTTP calls, divided by its two calls).

Needs PostgreSQL and Redis:

    .venv/bin/python bench/onboarding.py --n 100 --latency-ms 200 --concurrency 4 \\
        --database-url postgres://postgres@127.0.0.1:5432/portal_bench \\
        --broker-url redis://127.0.0.1:6379/14 --cache-url rediscache://127.0.0.1:6379/15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import ensure_database, setup_django, stack_env, start_sandbox  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="pharmacies to onboard (default 100)")
    parser.add_argument("--latency-ms", type=float, default=200, help="sandbox latency per call, L (default 200)")
    parser.add_argument("--concurrency", type=int, default=4, help="worker concurrency, C (default 4)")
    parser.add_argument("--warmup", type=int, default=None, help="onboardings run first and not counted (default C)")
    parser.add_argument("--pool", default="prefork", help="Celery pool (prefork or threads; default prefork)")
    parser.add_argument("--port", type=int, default=8199, help="port of the sandbox process (default 8199)")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
    )
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "rediscache://127.0.0.1:6379/15"))
    parser.add_argument("--timeout", type=float, default=600)
    return parser.parse_args()


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    args = parse_args()
    sandbox_url = f"http://127.0.0.1:{args.port}/sandbox"
    env = stack_env(
        port=args.port,
        database_url=args.database_url,
        broker_url=args.broker_url,
        cache_url=args.cache_url,
        log_level="WARNING",
    )
    ensure_database(args.database_url)
    logs = setup_django(env)
    import requests

    from onboarding import services as onboarding_services
    from onboarding.models import Job, JobStatus, OutboundCall
    from portal.celery import app
    from providers.bimedoc import services

    processes = []
    try:
        processes.append(start_sandbox(env, args.port, logs / "bench-sandbox.log"))
        requests.put(f"{sandbox_url}/bimedoc/_faults", json={"latency_ms": args.latency_ms}, timeout=5).raise_for_status()

        # Queue every job first, then start the worker: the measure is the worker's, not the queueing's.
        app.control.purge()
        run = uuid.uuid4().hex[:8]
        warmup = args.concurrency if args.warmup is None else args.warmup
        job_ids = []
        for i in range(warmup + args.n):
            user = onboarding_services.register_staff(
                email=f"bench-{run}-{i}@example.com", password=None, first_name="Bench", last_name=str(i), gender="f"
            )
            job = services.start_onboarding(
                titulaire=user,
                profile={},
                pharmacy_fields={"name": f"Bench {run} #{i}", "city": "Lyon", "postcode": "69001"},
                idempotency_key=f"bench:{run}:{i}",
            )
            job_ids.append(job.pk)
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "WARNING", "-n", f"bench-{run}@%h",
             "-c", str(args.concurrency), "-P", args.pool, "-Q", "default,outbound", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=open(logs / "bench-worker.log", "ab"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(worker)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if Job.objects.filter(pk__in=job_ids, status__in=Job.FINAL_STATUSES).count() == len(job_ids):
                break
            time.sleep(0.5)
        # The first jobs queued warm the worker processes up (connections, imports): not counted.
        warmup_ids, job_ids = job_ids[:warmup], job_ids[warmup:]
        jobs = list(Job.objects.filter(pk__in=job_ids))
    finally:
        for proc in reversed(processes):
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    succeeded = [j for j in jobs if j.status == JobStatus.SUCCEEDED]
    if not succeeded:
        raise SystemExit("No onboarding succeeded; see test-artifacts/bench-worker.log and bench-sandbox.log")
    starts = [datetime.fromisoformat(j.steps["create_user"]["started_at"]) for j in succeeded]
    wall = (max(j.finished_at for j in succeeded) - min(starts)).total_seconds()
    throughput = len(succeeded) / wall
    limit = args.concurrency / (2 * args.latency_ms / 1000)

    calls = {}
    for job_id, duration in OutboundCall.objects.filter(job_id__in=job_ids, outcome="success").values_list(
        "job_id", "duration_ms"
    ):
        calls.setdefault(job_id, []).append(duration)
    overheads, wire = [], []
    for job, start in zip(succeeded, starts, strict=True):
        durations = calls.get(job.pk, [])
        if len(durations) != 2:
            continue
        run_ms = (job.finished_at - start).total_seconds() * 1000
        overheads.append((run_ms - sum(durations)) / 2)
        wire += [d - args.latency_ms for d in durations]

    print(
        f"Onboarded {len(succeeded)}/{args.n} pharmacies (failed {len(jobs) - len(succeeded)}) with "
        f"L={args.latency_ms:.0f} ms, C={args.concurrency} ({args.pool}), after {len(warmup_ids)} warm-up ones"
    )
    print(f"  wall time            {wall:8.2f} s")
    print(f"  throughput           {throughput:8.2f} pharmacies/s")
    print(f"  limit C/(2L)         {limit:8.2f} pharmacies/s")
    print(f"  ratio                {throughput / limit:8.2f}  (target >= 0.90)")
    if overheads:
        print(f"  portal overhead/call median {statistics.median(overheads):6.1f} ms, p95 {pct(overheads, 0.95):6.1f} ms"
              "  (job run time outside HTTP calls / 2; target median < 30 ms)")  # fmt: skip
        print(f"  wire time - L / call median {statistics.median(wire):6.1f} ms, p95 {pct(wire, 0.95):6.1f} ms"
              "  (HTTP, sandbox processing)")  # fmt: skip


if __name__ == "__main__":
    main()
