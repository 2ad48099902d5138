"""What the benchmarks share: the environment of a portal stack on the sandbox, its database and Redis, readiness."""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stack_env(*, port: int, database_url: str, broker_url: str, cache_url: str, log_level: str, **extra) -> dict:
    """Environment for the portal's processes: real broker, the sandbox process on ``port`` for Bimedoc."""
    sandbox_url = f"http://127.0.0.1:{port}/sandbox"
    return dict(
        os.environ,
        DJANGO_DEBUG="true",
        SANDBOX_ENABLED="true",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        CACHE_URL=cache_url,
        SANDBOX_URL=sandbox_url,
        BIMEDOC_BASE_URL=f"{sandbox_url}/bimedoc",
        BIMEDOC_APP_URL=f"{sandbox_url}/bimedoc-app",
        LOG_LEVEL=log_level,
        PYTHONUNBUFFERED="1",
        **extra,
    )


def _admin_url(url: str) -> tuple[str, str]:
    return url.rsplit("/", 1)[0] + "/postgres", url.rsplit("/", 1)[1]


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database if it does not exist."""
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def reset_database(url: str) -> None:
    """Drop and create the PostgreSQL database."""
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url.replace("rediscache://", "redis://")).flushdb()


def wait_http(url: str, timeout: float = 30) -> None:
    """Return once ``url`` answers 2xx; exit the benchmark if it does not within ``timeout`` seconds."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout}s")


def setup_django(env: dict) -> Path:
    """Adopt the stack's environment in this process, set Django up, migrate; return the log folder."""
    import sys

    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    return logs


def start_sandbox(env: dict, port: int, log: Path, extra_args=()):
    """Start ``manage.py run_sandbox`` on ``port`` and return its process once the Bimedoc simulator answers."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", str(port), "--quiet", *extra_args],
        cwd=ROOT,
        env=env,
        stdout=open(log, "ab"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )
    wait_http(f"http://127.0.0.1:{port}/sandbox/bimedoc/_state")
    return process
