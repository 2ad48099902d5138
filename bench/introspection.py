"""Token introspection throughput: the portal's /mcg/v1/tokeninfo against django-oauth-toolkit's, in one run.

Both are served by gunicorn (2 sync workers) on PostgreSQL and driven over
loopback by the same load generator (concurrent client processes, one request
per TCP connection, bounded by count and time). django-oauth-toolkit is set up
in a temporary directory (its own venv, Django project with IntrospectTokenView
and database) and nothing of it is kept.

    .venv/bin/python bench/introspection.py [--concurrency 2] [--duration 8] [--requests 20000]

Needs PostgreSQL (``BENCH_PG``, default postgres://postgres@127.0.0.1:5432) and
Redis for the portal's shared cache (``BENCH_CACHE_URL``, default
rediscache://127.0.0.1:6379/14, flushed at start). Databases ``bench_portal``
and ``bench_dot`` are dropped and recreated.
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
PYTHON = sys.executable
DOT_VERSION = "3.4.1"


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


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


def _client(args):
    """One client process: send the same request over fresh connections until the count or time runs out."""
    port, request, count, stop_at = args
    latencies, errors = [], 0
    for _ in range(count):
        if time.monotonic() >= stop_at:
            break
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
            ok = response.startswith(b"HTTP/1.1 200") and b'"active": true' in response
        except OSError:
            ok = False
        latencies.append(time.perf_counter() - started)
        errors += not ok
    return latencies, errors


@dataclass
class Target:
    name: str
    port: int
    request: bytes
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


def target(name: str, port: int, path: str, body: dict, authorization: str) -> Target:
    payload = urlencode(body).encode()
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {authorization}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + payload
    # Warm up (imports, connections, caches) before measuring.
    _client((port, request, 50, time.monotonic() + 5))
    return Target(name, port, request)


def measure(targets: list[Target], *, concurrency: int, duration: float, requests: int, rounds: int) -> None:
    """Alternate short rounds between the targets, so both see the same background load on a shared machine."""
    per_client = max(1, requests // (concurrency * rounds))
    with multiprocessing.Pool(concurrency) as pool:
        for _ in range(rounds):
            for t in targets:
                started = time.perf_counter()
                stop_at = time.monotonic() + duration / rounds
                for latencies, errors in pool.map(_client, [(t.port, t.request, per_client, stop_at)] * concurrency):
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
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    key_file = tmp / "signing.pem"
    key_file.write_text(key_pem)
    env = dict(os.environ)
    env.update(
        DJANGO_DEBUG="false",
        SECRET_KEY=Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ACCESS_TOKEN_SIGNING_KEY_FILES=str(key_file),
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        CELERY_BROKER_URL="",
        SECURE_SSL_REDIRECT="false",
        SANDBOX_ENABLED="false",
        # Nothing is mailed or delivered in this benchmark.
        ALLOW_CONSOLE_EMAIL="true",
        ALLOW_CONSOLE_GATEWAY="true",
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore:No directory at",
    )
    return env


def start_portal(args, tmp: Path) -> tuple[subprocess.Popen, Target]:
    database_url = recreate_database(args.pg, "bench_portal")
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
    port = free_port()
    proc = serve(PYTHON, ROOT, "portal.wsgi", env, port)
    try:
        import requests

        def token():
            response = requests.post(
                f"http://127.0.0.1:{port}/mcg/v1/token",
                data={"grant_type": "client_credentials"},
                auth=(handover["client_id"], handover["client_secret"]),
                timeout=10,
            )
            response.raise_for_status()
            return response.json()["access_token"]

        caller, token_to_check = token(), token()
        body = {"token": token_to_check, "token_type_hint": "access_token"}
        return proc, target("portal /mcg/v1/tokeninfo", port, "/mcg/v1/tokeninfo", body, f"Bearer {caller}")
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
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "bench_dot", "USER": %(user)r,
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
import datetime, json, secrets
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
target = AccessToken.objects.create(user=user, application=app, token=secrets.token_urlsafe(30),
                                    expires=expires, scope="read")
print(json.dumps({"caller": caller.token, "target": target.token}))
"""


def django_version() -> str:
    import django

    return django.get_version()


def start_dot(args, tmp: Path) -> tuple[subprocess.Popen, Target]:
    recreate_database(args.pg, "bench_dot")
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
        % {"user": parsed.username or "postgres", "host": parsed.hostname or "127.0.0.1", "port": str(parsed.port or 5432)}
    )
    (project / "dotbench" / "urls.py").write_text(DOT_URLS)
    (project / "dotbench" / "wsgi.py").write_text(
        "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dotbench.settings", "PYTHONPATH": str(project)}
    run([python, "-m", "django", "migrate", "--noinput"], cwd=project, env=env)
    tokens = json.loads(run([python, "-c", textwrap.dedent(DOT_SETUP)], cwd=project, env=env).stdout)
    port = free_port()
    proc = serve(python, project, "dotbench.wsgi", env, port)
    try:
        body = {"token": tokens["target"]}
        return proc, target(f"django-oauth-toolkit {DOT_VERSION}", port, "/o/introspect/", body, f"Bearer {tokens['caller']}")
    except BaseException:
        stop(proc)
        raise


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per server (default 8)")
    parser.add_argument("--requests", type=int, default=20000, help="requests per server at most (default 20000)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds the duration is split into (default 4)")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "rediscache://127.0.0.1:6379/14"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-introspection-"))
    servers = []
    try:
        print("Setting up the portal (gunicorn, 2 workers, PostgreSQL bench_portal) …", flush=True)
        portal_proc, portal = start_portal(args, tmp)
        servers.append(portal_proc)
        print(f"Setting up django-oauth-toolkit {DOT_VERSION} in {tmp} (PostgreSQL bench_dot) …", flush=True)
        dot_proc, dot = start_dot(args, tmp)
        servers.append(dot_proc)
        print(f"Measuring: {args.concurrency} concurrent clients, {args.duration:g} s per server in {args.rounds} rounds …")
        measure([portal, dot], concurrency=args.concurrency, duration=args.duration, requests=args.requests, rounds=args.rounds)
    finally:
        for proc in servers:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    results = {t.name: t.summary() for t in (portal, dot)}
    print()
    print(f"{'':28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
    for name, r in results.items():
        print(f"{name:28}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['requests']:>10}{r['errors']:>8}")
    p, d = results[portal.name], results[dot.name]
    ratio = p["rps"] / d["rps"] if d["rps"] else float("inf")
    print(f"\nthroughput ratio (portal / django-oauth-toolkit): {ratio:.2f}x")
    print(f"target: >= 2x at p99 < 10 ms: {'met' if ratio >= 2 and p['p99_ms'] < 10 else 'not met'}")


if __name__ == "__main__":
    main()
