"""Onboarding throughput: N pharmacies through the sandbox with latency L and worker concurrency C.

Each onboarding is two sequential Bimedoc calls (create user, create pharmacy),
so W workers of concurrency C cannot do better than W C / (2 L) pharmacies per
second. For each configuration the bench queues N onboarding jobs (plus C
warm-up ones per worker, not counted), then starts the Celery worker(s) against
a separate sandbox process (``manage.py run_sandbox``) answering after L ms,
and prints:

- the throughput against that limit, over the whole run (N over the time from
  the first measured start to the last finish), and in the steady state (the
  slope of the middle 80% of finishes over time): with all jobs queued at
  once, the last round leaves up to C slots idle while it drains, which costs
  the whole-run figure about C / (2N);
- the portal's own overhead per call (time a job spends outside the HTTP
  calls, divided by its two calls) and the wire time beyond L;
- the CPU milliseconds per onboarding of the worker processes, the database
  (every PostgreSQL backend connected to the benchmark's database, read from
  /proc) and the sandbox process, from their kernel accounting (utime + stime);
- the most calls the sandbox received in any one-second window (what
  ``BIMEDOC_MAX_RPS`` bounds; off unless ``--max-rps`` is given).

``--concurrency 4,16,32`` runs one configuration per value, ``--runs 3`` repeats
each and reports medians, in a table at the end. Needs PostgreSQL and Redis:

    .venv/bin/python bench/onboarding.py --n 300 --latency-ms 200 --pool threads --concurrency 4,16,32 --runs 3 \\
        --database-url postgres://postgres@127.0.0.1:5432/portal_bench \\
        --broker-url redis://127.0.0.1:6379/14 --cache-url rediscache://127.0.0.1:6379/15
"""

from __future__ import annotations

import argparse
import bisect
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import control_headers, ensure_database, flush_redis, setup_django, stack_env, start_sandbox  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="pharmacies to onboard per run (default 100)")
    parser.add_argument("--latency-ms", type=float, default=200, help="sandbox latency per call, L (default 200)")
    parser.add_argument("--concurrency", default="4", help="worker concurrency C, or a comma-separated list (default 4)")
    parser.add_argument("--pool", default="prefork", help="Celery pool: prefork, threads (default prefork)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes, each of concurrency C (default 1)")
    parser.add_argument(
        "--prefetch-multiplier", type=int, default=4, help="worker --prefetch-multiplier (default 4, as scripts/up.sh)"
    )
    parser.add_argument("--runs", type=int, default=1, help="runs per configuration; medians are reported (default 1)")
    parser.add_argument("--max-rps", type=float, default=0, help="BIMEDOC_MAX_RPS for the workers (default 0: off)")
    parser.add_argument("--warmup", type=int, default=None, help="onboardings run first and not counted (default C)")
    parser.add_argument("--port", type=int, default=8199, help="port of the sandbox process (default 8199)")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
    )
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "rediscache://127.0.0.1:6379/15"))
    parser.add_argument("--timeout", type=float, default=600, help="time cap per run, s (default 600)")
    parser.add_argument("--debug", action="store_true", help="run the processes with debug on (default: off, as in production)")
    args = parser.parse_args(argv)
    args.concurrencies = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    return args


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# --- CPU accounting from /proc -----------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (its threads included), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


class CpuMeter:
    """CPU seconds used by the worker trees, the sandbox and the database's backends, between two readings.

    PostgreSQL backends come and go: every reading lists the backends of the
    benchmark's database (pg_stat_activity) and keeps the last CPU time seen
    for each, so a backend that closed between two readings still counts up
    to the reading before it went.
    """

    def __init__(self, workers, sandbox_pid: int):
        self.workers = workers
        self.sandbox_pid = sandbox_pid
        self.backends: dict[int, float] = {}
        self.start: dict[str, float] | None = None

    def _backend_pids(self) -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            return [row[0] for row in cursor.fetchall()]

    def sample(self) -> dict[str, float]:
        for pid in self._backend_pids():
            seen = cpu_seconds(pid)
            if seen:
                self.backends[pid] = max(self.backends.get(pid, 0.0), seen)
        worker = sum(cpu_seconds(pid) for proc in self.workers for pid in process_tree(proc.pid))
        return {"worker": worker, "database": sum(self.backends.values()), "sandbox": cpu_seconds(self.sandbox_pid)}

    def begin(self) -> None:
        self.start = self.sample()

    def used(self) -> dict[str, float]:
        end = self.sample()
        return {key: end[key] - self.start[key] for key in end}


# --- One run -------------------------------------------------------------------------------


@dataclass
class Result:
    pool: str
    concurrency: int
    workers: int
    onboarded: int
    failed: int
    wall: float
    throughput: float
    steady_throughput: float
    limit: float
    overhead_median: float | None
    overhead_p95: float | None
    wire_median: float | None
    cpu_ms: dict[str, float]
    max_calls_per_second: int

    @property
    def ratio(self) -> float:
        return self.throughput / self.limit

    @property
    def steady_ratio(self) -> float:
        return self.steady_throughput / self.limit


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    """The most stamps in any half-open window [t, t + window)."""
    stamps = sorted(stamps)
    return max((bisect.bisect_left(stamps, t + window) - i for i, t in enumerate(stamps)), default=0)


def steady_rate(finishes: list[float], trim: float = 0.1) -> float:
    """Finishes per second in the steady state: the least-squares slope of the middle 80% of finishes over time.

    A slope rather than a count over a time span: jobs that start together finish in bursts of up to C,
    and a span that begins or ends on a burst would count it or miss it whole.
    """
    finishes = sorted(finishes)
    middle = finishes[int(len(finishes) * trim) : int(len(finishes) * (1 - trim))]
    if len(middle) < 2 or middle[-1] <= middle[0]:
        return float("nan")
    return statistics.linear_regression(middle, range(len(middle))).slope


def bimedoc_arrivals(log: Path, since: float) -> list[float]:
    stamps = []
    for line in log.read_text().splitlines():
        stamp, _method, path = line.split(" ", 2)
        if "/bimedoc/auth/" in path and float(stamp) >= since:
            stamps.append(float(stamp))
    return stamps


def run_once(args, env, concurrency: int, sandbox, arrivals: Path, logs: Path) -> Result:
    from onboarding import services as onboarding_services
    from onboarding.models import Job, JobStatus, OutboundCall
    from portal.celery import app
    from providers.bimedoc import services

    # Queue every job first, then start the worker(s): the measure is the workers', not the queueing's.
    app.control.purge()
    run = uuid.uuid4().hex[:8]
    warmup = concurrency * args.workers if args.warmup is None else args.warmup
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
    warmup_ids, measured_ids = job_ids[:warmup], job_ids[warmup:]
    worker_env = {
        **env,
        "BIMEDOC_MAX_RPS": str(args.max_rps),
        "PROVIDER_HTTP_POOL_SIZE": str(max(concurrency, 1)),
    }
    workers = []
    started_at = time.time()
    try:
        for w in range(args.workers):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "WARNING", "-n", f"bench-{run}-{w}@%h",
                     "-c", str(concurrency), "-P", args.pool, "--prefetch-multiplier", str(args.prefetch_multiplier),
                     "-Q", "default,outbound", "--without-gossip",
                     "--without-mingle", "--without-heartbeat"],
                    cwd=ROOT,
                    env=worker_env,
                    stdout=open(logs / "bench-worker.log", "ab"),  # noqa: SIM115 - closed with the process
                    stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        meter = CpuMeter(workers, sandbox.pid)
        deadline = time.monotonic() + args.timeout
        begun_with = None
        while time.monotonic() < deadline:
            final = Job.objects.filter(pk__in=job_ids, status__in=Job.FINAL_STATUSES).count()
            if begun_with is None:
                meter.sample()
                if Job.objects.filter(pk__in=warmup_ids, status__in=Job.FINAL_STATUSES).count() == len(warmup_ids):
                    meter.begin()
                    begun_with = final
            elif final < len(job_ids):
                meter.sample()
            if final == len(job_ids):
                break
            time.sleep(0.5)
        cpu = meter.used() if begun_with is not None else {}
        final = Job.objects.filter(pk__in=job_ids, status__in=Job.FINAL_STATUSES).count()
        counted = max(1, final - (begun_with or 0))
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    jobs = list(Job.objects.filter(pk__in=measured_ids))
    succeeded = [j for j in jobs if j.status == JobStatus.SUCCEEDED]
    if not succeeded:
        raise SystemExit("No onboarding succeeded; see test-artifacts/bench-worker.log and bench-sandbox.log")
    starts = [datetime.fromisoformat(j.steps["create_user"]["started_at"]) for j in succeeded]
    wall = (max(j.finished_at for j in succeeded) - min(starts)).total_seconds()
    calls: dict[int, list[float]] = {}
    for job_id, duration in OutboundCall.objects.filter(job_id__in=measured_ids, outcome="success").values_list(
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
    return Result(
        pool=args.pool,
        concurrency=concurrency,
        workers=args.workers,
        onboarded=len(succeeded),
        failed=len(jobs) - len(succeeded),
        wall=wall,
        throughput=len(succeeded) / wall,
        steady_throughput=steady_rate([j.finished_at.timestamp() for j in succeeded]),
        limit=args.workers * concurrency / (2 * args.latency_ms / 1000),
        overhead_median=statistics.median(overheads) if overheads else None,
        overhead_p95=pct(overheads, 0.95) if overheads else None,
        wire_median=statistics.median(wire) if wire else None,
        cpu_ms={key: 1000 * value / counted for key, value in cpu.items()},
        max_calls_per_second=max_in_window(bimedoc_arrivals(arrivals, started_at)),
    )


def print_result(args, r: Result) -> None:
    print(
        f"Onboarded {r.onboarded}/{args.n} pharmacies (failed {r.failed}) with L={args.latency_ms:.0f} ms, "
        f"{r.workers} x C={r.concurrency} ({r.pool})", flush=True
    )  # fmt: skip
    print(f"  wall time            {r.wall:8.2f} s")
    print(f"  throughput           {r.throughput:8.2f} pharmacies/s")
    print(f"  limit W C/(2L)       {r.limit:8.2f} pharmacies/s")
    print(f"  ratio                {r.ratio:8.2f}")
    print(f"  steady state         {r.steady_throughput:8.2f} pharmacies/s, ratio {r.steady_ratio:.2f}  (middle 80% of finishes)")
    if r.overhead_median is not None:
        print(f"  portal overhead/call median {r.overhead_median:6.1f} ms, p95 {r.overhead_p95:6.1f} ms"
              "  (job run time outside HTTP calls / 2)")  # fmt: skip
        print(f"  wire time - L / call median {r.wire_median:6.1f} ms  (HTTP, sandbox processing)")
    if r.cpu_ms:
        total = sum(r.cpu_ms.values())
        parts = ", ".join(f"{k} {v:.1f}" for k, v in r.cpu_ms.items())
        print(f"  CPU per onboarding   {total:8.1f} ms  ({parts})")
    limit = f" (BIMEDOC_MAX_RPS {args.max_rps:g})" if args.max_rps else ""
    print(f"  most calls in any 1 s at the sandbox: {r.max_calls_per_second}{limit}", flush=True)


def median_of(results: list[Result], attr) -> float | None:
    values = [attr(r) for r in results if attr(r) is not None]
    return statistics.median(values) if values else None


def print_table(args, table: dict[int, list[Result]]) -> None:
    print()
    print(f"Medians of {args.runs} run(s), N={args.n}, L={args.latency_ms:.0f} ms, {args.workers} worker(s), {args.pool}")
    print(
        "| pool, C | throughput | limit | ratio | steady ratio | overhead/call "
        "| CPU/onboarding (worker + db + sandbox) | max calls/s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for concurrency, results in table.items():
        cpu = {k: median_of(results, lambda r, k=k: r.cpu_ms.get(k)) for k in ("worker", "database", "sandbox")}
        total = sum(v for v in cpu.values() if v is not None)
        print(
            f"| {args.pool}, {args.workers}x{concurrency} | {median_of(results, lambda r: r.throughput):.1f}/s "
            f"| {results[0].limit:.0f}/s | {median_of(results, lambda r: r.ratio):.2f} "
            f"| {median_of(results, lambda r: r.steady_ratio):.2f} "
            f"| {median_of(results, lambda r: r.overhead_median):.1f} ms "
            f"| {total:.1f} ms ({cpu['worker']:.1f} + {cpu['database']:.1f} + {cpu['sandbox']:.1f}) "
            f"| {max(r.max_calls_per_second for r in results)} |"
        )


def main(argv=None):
    args = parse_args(argv)
    sandbox_url = f"http://127.0.0.1:{args.port}/sandbox"
    env = stack_env(
        port=args.port,
        database_url=args.database_url,
        broker_url=args.broker_url,
        cache_url=args.cache_url,
        log_level="WARNING",
        debug=args.debug,
    )
    ensure_database(args.database_url)
    flush_redis(args.cache_url)
    logs = setup_django(env)
    import requests

    arrivals = logs / "bench-sandbox-arrivals.log"
    arrivals.write_text("")
    table: dict[int, list[Result]] = {}
    sandbox = start_sandbox(env, args.port, logs / "bench-sandbox.log", extra_args=["--arrivals", str(arrivals)])
    try:
        requests.put(
            f"{sandbox_url}/bimedoc/_faults", json={"latency_ms": args.latency_ms}, headers=control_headers(env), timeout=5
        ).raise_for_status()
        for concurrency in args.concurrencies:
            for _ in range(args.runs):
                result = run_once(args, env, concurrency, sandbox, arrivals, logs)
                table.setdefault(concurrency, []).append(result)
                print_result(args, result)
    finally:
        sandbox.terminate()
        try:
            sandbox.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sandbox.kill()
    if len(args.concurrencies) > 1 or args.runs > 1:
        print_table(args, table)


if __name__ == "__main__":
    main()
