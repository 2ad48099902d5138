"""What the benchmarks share: the environment of a portal stack on the sandbox, its database and Redis, readiness."""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


ARTIFACTS = ROOT / "test-artifacts"


def production_secrets(folder: Path = ARTIFACTS) -> dict:
    """Fresh secrets for a production process (debug off), its signing key written into ``folder``."""
    import secrets

    folder.mkdir(exist_ok=True)

    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key_file = folder / "bench-signing-key.pem"
    key_file.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    return {
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ACCESS_TOKEN_SIGNING_KEY_FILES": str(key_file),
        "SANDBOX_CONTROL_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        # Required of a production process; the benchmarks' Bimedoc is the sandbox.
        "BIMEDOC_PARTNER_ID": "00000000-0000-4000-8000-000000000000",
        "BIMEDOC_API_KEY": "sandbox-api-key",
        # Nothing is mailed or delivered in the benchmarks.
        "ALLOW_CONSOLE_EMAIL": "true",
        "ALLOW_CONSOLE_GATEWAY": "true",
        "PYTHONWARNINGS": "ignore:No directory at",
    }


def control_headers(env: dict) -> dict:
    """Headers that let a request drive the sandbox's control endpoints (needed when debug is off; after setup_django)."""
    from providers.sandbox.control import HEADER

    key = env.get("SANDBOX_CONTROL_KEY", "")
    return {HEADER: key} if key else {}


def stack_env(
    *, port: int, database_url: str, broker_url: str, cache_url: str, log_level: str, debug: bool = True, **extra
) -> dict:
    """Environment for the portal's processes: real broker, the sandbox process on ``port`` for Bimedoc.

    ``debug=False`` runs them as in production (debug off, generated secrets), as ``make up`` does.
    """
    sandbox_url = f"http://127.0.0.1:{port}/sandbox"
    mode = {"DJANGO_DEBUG": "true"}
    if not debug:
        mode = production_secrets()
    return dict(
        os.environ,
        **mode,
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


def wait_http(url: str, timeout: float = 30, headers=None) -> None:
    """Return once ``url`` answers 2xx; exit the benchmark if it does not within ``timeout`` seconds."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2, headers=headers).ok:
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
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


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
    wait_http(f"http://127.0.0.1:{port}/sandbox/bimedoc/_state", headers=control_headers(env))
    return process
