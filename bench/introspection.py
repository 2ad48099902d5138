"""Token introspection throughput: the portal's /mcg/v1/tokeninfo against django-oauth-toolkit's and the
framework's own limit, in one run.

Four targets, each served by gunicorn (2 sync workers) and driven over loopback
by the same load generator (concurrent client processes, one request per TCP
connection, bounded by count and time, the targets taking turns in short rounds):

- the portal, its caller authenticated with a Bearer access token (the seed's way);
- the portal, its caller authenticated with HTTP Basic client credentials
  (``client_secret_basic``, what gateways send);
- an empty Django view: no middleware, no database, reads the form body and answers
  a small JSON. The portal cannot beat it; the goals are stated against it;
- django-oauth-toolkit's IntrospectTokenView on PostgreSQL, set up in a temporary
  directory (its own venv, Django project and database), nothing of it kept.

Every request asks about one of ``--tokens`` distinct tokens (default 2000).

    .venv/bin/python bench/introspection.py [--concurrency 16] [--duration 8] [--requests 40000]

Needs PostgreSQL (``BENCH_PG``, default postgres://postgres@127.0.0.1:5432) and
Redis for the portal's shared cache (``BENCH_CACHE_URL``, default
rediscache://127.0.0.1:6379/14, flushed at start). Databases ``bench_portal``
and ``bench_dot`` (``--db-suffix`` appended) are dropped and recreated. The
servers listen on ``--port-base`` and the two ports after it (default: free
ports chosen by the system).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
DOT_VERSION = "3.4.1"


def run(cmd, **kwargs):
    result = subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    if result.returncode:
        sys.stderr.write(result.stderr[-4000:])
        result.check_returncode()
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(pg: str, name: str) -> str:
    parsed = urlparse(pg)
    base = ["psql", "-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    run([*base, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    run([*base, "-q", "-c", f"CREATE DATABASE {name}"])
    return f"{pg.rstrip('/')}/{name}"


# --- Load generator -----------------------------------------------------------------------


# Each target's requests by port; client processes inherit them (fork), only their indices travel to them.
REQUESTS: dict[int, list[bytes]] = {}


def _client(args):
    """One client process: send the target's requests in turn over fresh connections until the count or time runs out."""
    port, offset, count, stop_at = args
    requests = REQUESTS[port]
    latencies, errors = [], 0
    for i in range(count):
        if time.monotonic() >= stop_at:
            break
        request = requests[(offset + i) % len(requests)]
        started = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(request)
                chunks = []
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            response = b"".join(chunks)
            ok = response.startswith(b"HTTP/1.1 200") and (b'"active":true' in response or b'"active": true' in response)
        except OSError:
            ok = False
        latencies.append(time.perf_counter() - started)
        errors += not ok
    return latencies, errors


@dataclass
class Target:
    name: str
    port: int
    latencies: list = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def summary(self) -> dict:
        latencies = sorted(self.latencies)
        return {
            "requests": len(latencies),
            "errors": self.errors,
            "rps": len(latencies) / self.elapsed if self.elapsed else 0.0,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        }


def http_request(port: int, path: str, body: dict, authorization: str) -> bytes:
    payload = urlencode(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {authorization}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + payload


def target(name: str, port: int, path: str, tokens_to_check: list[str], authorization: str) -> Target:
    """A target asking about each token in turn (a ``token_type_hint`` as clients send)."""
    requests = [
        http_request(port, path, {"token": token, "token_type_hint": "access_token"}, authorization) for token in tokens_to_check
    ]
    REQUESTS[port] = requests
    # Warm up (imports, connections, caches) before measuring: every token is asked about once.
    _client((port, 0, len(requests), time.monotonic() + 60))
    return Target(name, port)


def measure(targets: list[Target], *, concurrency: int, duration: float, requests: int, rounds: int) -> None:
    """Alternate short rounds between the targets, so both see the same background load on a shared machine."""
    per_client = max(1, requests // (concurrency * rounds))
    with multiprocessing.Pool(concurrency) as pool:
        for round_number in range(rounds):
            for t in targets:
                started = time.perf_counter()
                stop_at = time.monotonic() + duration / rounds
                jobs = [(t.port, (round_number * concurrency + c) * per_client, per_client, stop_at) for c in range(concurrency)]
                for latencies, errors in pool.map(_client, jobs):
                    t.latencies.extend(latencies)
                    t.errors += errors
                t.elapsed += time.perf_counter() - started


def serve(python: str, cwd: Path, module: str, env: dict, port: int) -> subprocess.Popen:
    gunicorn = [python, "-m", "gunicorn", module, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    proc = subprocess.Popen(gunicorn, cwd=cwd, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"gunicorn for {module} did not start")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


# --- The portal -------------------------------------------------------------------------------


def portal_env(database_url: str, cache_url: str, tmp: Path) -> dict:
    from bench.stack import production_secrets

    env = dict(os.environ)
    env.update(
        production_secrets(tmp),
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        CELERY_BROKER_URL="",
        SANDBOX_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    return env


def start_portal(args, tmp: Path, port: int) -> tuple[subprocess.Popen, list[Target]]:
    database_url = recreate_database(args.pg, "bench_portal" + args.db_suffix)
    env = portal_env(database_url, args.cache_url, tmp)
    run([PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env)
    run([PYTHON, "-c", "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','portal.settings');django.setup();"
         "from django.core.cache import cache;cache.clear()"], cwd=ROOT, env=env)  # fmt: skip
    handover = json.loads(
        run(
            [PYTHON, "manage.py", "create_service_provider", "--provider-id", "1", "--name", "Bench", "--service-id", "1"],
            cwd=ROOT,
            env=env,
        ).stdout
    )
    # The tokens asked about, signed in one process (as /mcg/v1/token would, without 2000 round trips).
    issued = run(
        [PYTHON, "-c", textwrap.dedent(PORTAL_TOKENS), handover["client_id"], str(args.tokens + 1)], cwd=ROOT, env=env
    ).stdout.split()
    proc = serve(PYTHON, ROOT, "portal.wsgi", env, port)
    try:
        import base64

        caller, tokens_to_check = issued[0], issued[1:]
        basic = base64.b64encode(f"{handover['client_id']}:{handover['client_secret']}".encode()).decode()
        return proc, [
            target("portal, Bearer caller", port, "/mcg/v1/tokeninfo", tokens_to_check, f"Bearer {caller}"),
            target("portal, client_secret_basic", port, "/mcg/v1/tokeninfo", tokens_to_check, f"Basic {basic}"),
        ]
    except BaseException:
        stop(proc)
        raise


PORTAL_TOKENS = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
from providers.mcg import services
from providers.mcg.models import ServiceProvider

provider = ServiceProvider.objects.get(client_id=sys.argv[1])
for _ in range(int(sys.argv[2])):
    print(services.issue_provider_token(provider).token)
"""


# --- The framework's limit: an empty Django view ----------------------------------------------

EMPTY_SETTINGS = """
SECRET_KEY = "bench-only-" + "x" * 50
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = []
MIDDLEWARE = []
ROOT_URLCONF = "emptybench.urls"
DATABASES = {}
USE_TZ = True
"""

EMPTY_URLS = """
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def introspect(request):
    # Reads the form body and answers a small JSON, as an introspection answer would be.
    return JsonResponse({"active": bool(request.POST.get("token")), "token_type": "Bearer"})


urlpatterns = [path("introspect", introspect)]
"""


def start_empty(args, tmp: Path, port: int, tokens_to_check: list[str]) -> tuple[subprocess.Popen, Target]:
    project = tmp / "emptyproject"
    (project / "emptybench").mkdir(parents=True)
    (project / "emptybench" / "__init__.py").write_text("")
    (project / "emptybench" / "settings.py").write_text(EMPTY_SETTINGS)
    (project / "emptybench" / "urls.py").write_text(EMPTY_URLS)
    (project / "emptybench" / "wsgi.py").write_text(
        "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "emptybench.settings", "PYTHONPATH": str(project)}
    proc = serve(PYTHON, project, "emptybench.wsgi", env, port)
    try:
        return proc, target("empty Django view", port, "/introspect", tokens_to_check, "Bearer x")
    except BaseException:
        stop(proc)
        raise


# --- django-oauth-toolkit ---------------------------------------------------------------------

DOT_SETTINGS = """
SECRET_KEY = "bench-only-" + "x" * 50
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions",
                  "django.contrib.messages", "oauth2_provider"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "dotbench.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": %(name)r, "USER": %(user)r,
                         "HOST": %(host)r, "PORT": %(port)r, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
OAUTH2_PROVIDER = {"SCOPES": {"read": "Read", "introspection": "Introspect tokens"}}
"""

DOT_URLS = """
from django.urls import path
from oauth2_provider.views import IntrospectTokenView

urlpatterns = [path("o/introspect/", IntrospectTokenView.as_view())]
"""

DOT_SETUP = """
import datetime, json, secrets, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

user = get_user_model().objects.create_user("bench", password=secrets.token_urlsafe(16))
app = Application.objects.create(name="bench", user=user, client_type="confidential",
                                 authorization_grant_type="client-credentials")
expires = timezone.now() + datetime.timedelta(hours=1)
caller = AccessToken.objects.create(user=user, application=app, token=secrets.token_urlsafe(30),
                                    expires=expires, scope="introspection")
targets = AccessToken.objects.bulk_create(
    AccessToken(user=user, application=app, token=secrets.token_urlsafe(30), expires=expires, scope="read")
    for _ in range(int(sys.argv[1]))
)
print(json.dumps({"caller": caller.token, "targets": [t.token for t in targets]}))
"""


def django_version() -> str:
    import django

    return django.get_version()


def start_dot(args, tmp: Path, port: int) -> tuple[subprocess.Popen, Target]:
    database = "bench_dot" + args.db_suffix
    recreate_database(args.pg, database)
    venv = tmp / "dot-venv"
    run([PYTHON, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    run(
        [
            python, "-m", "pip", "install", "--quiet", f"django=={django_version()}",
            f"django-oauth-toolkit=={DOT_VERSION}", "psycopg[binary]", "gunicorn",
        ]
    )  # fmt: skip
    project = tmp / "dotproject"
    (project / "dotbench").mkdir(parents=True)
    parsed = urlparse(args.pg)
    (project / "dotbench" / "__init__.py").write_text("")
    (project / "dotbench" / "settings.py").write_text(
        DOT_SETTINGS
        % {
            "name": database,
            "user": parsed.username or "postgres",
            "host": parsed.hostname or "127.0.0.1",
            "port": str(parsed.port or 5432),
        }
    )
    (project / "dotbench" / "urls.py").write_text(DOT_URLS)
    (project / "dotbench" / "wsgi.py").write_text(
        "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dotbench.settings", "PYTHONPATH": str(project)}
    run([python, "-m", "django", "migrate", "--noinput"], cwd=project, env=env)
    tokens = json.loads(run([python, "-c", textwrap.dedent(DOT_SETUP), str(args.tokens)], cwd=project, env=env).stdout)
    proc = serve(python, project, "dotbench.wsgi", env, port)
    try:
        return proc, target(
            f"django-oauth-toolkit {DOT_VERSION}", port, "/o/introspect/", tokens["targets"], f"Bearer {tokens['caller']}"
        )
    except BaseException:
        stop(proc)
        raise


GOAL_SHARE = 0.8
GOAL_P99_MS = 15.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent client processes (default 16)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per target (default 8)")
    parser.add_argument("--requests", type=int, default=40000, help="requests per target at most (default 40000)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds the duration is split into (default 4)")
    parser.add_argument("--tokens", type=int, default=2000, help="distinct tokens asked about (default 2000)")
    parser.add_argument("--port-base", type=int, default=0, help="first of three ports to serve on (default: free ports)")
    parser.add_argument("--db-suffix", default="", help="appended to the benchmark's database names")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "rediscache://127.0.0.1:6379/14"))
    args = parser.parse_args()
    ports = [args.port_base + i for i in range(3)] if args.port_base else []
    while len(ports) < 3:
        ports = sorted({*ports, free_port()})
    tmp = Path(tempfile.mkdtemp(prefix="bench-introspection-"))
    servers = []
    try:
        print(f"Setting up the portal (gunicorn, 2 workers, PostgreSQL bench_portal{args.db_suffix}) …", flush=True)
        portal_proc, (bearer, basic) = start_portal(args, tmp, ports[0])
        servers.append(portal_proc)
        print("Setting up the empty Django view (gunicorn, 2 workers, no middleware, no database) …", flush=True)
        empty_proc, empty = start_empty(args, tmp, ports[1], [f"token-{i}" for i in range(args.tokens)])
        servers.append(empty_proc)
        print(f"Setting up django-oauth-toolkit {DOT_VERSION} in {tmp} (PostgreSQL bench_dot{args.db_suffix}) …", flush=True)
        dot_proc, dot = start_dot(args, tmp, ports[2])
        servers.append(dot_proc)
        targets = [bearer, basic, empty, dot]
        print(
            f"Measuring: {args.concurrency} concurrent clients, {args.tokens} distinct tokens, "
            f"{args.duration:g} s per target in {args.rounds} rounds …"
        )
        measure(targets, concurrency=args.concurrency, duration=args.duration, requests=args.requests, rounds=args.rounds)
    finally:
        for proc in servers:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    results = {t.name: t.summary() for t in targets}
    print()
    print(f"{'':36}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
    for name, r in results.items():
        print(f"{name:36}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['requests']:>10}{r['errors']:>8}")
    e, d = results[empty.name], results[dot.name]
    print()
    for portal in (bearer, basic):
        p = results[portal.name]
        share = p["rps"] / e["rps"] if e["rps"] else 0.0
        ratio = p["rps"] / d["rps"] if d["rps"] else float("inf")
        met = share >= GOAL_SHARE and p["p99_ms"] < GOAL_P99_MS and not p["errors"]
        print(
            f"{portal.name}: {share:.2f} of the empty view, {ratio:.2f}x django-oauth-toolkit, p99 {p['p99_ms']:.1f} ms; "
            f"goal (>= {GOAL_SHARE} of the empty view, p99 < {GOAL_P99_MS:g} ms): {'met' if met else 'not met'}"
        )
    print(f"django-oauth-toolkit: {d['rps'] / e['rps'] if e['rps'] else 0:.2f} of the empty view")


if __name__ == "__main__":
    main()
