"""Fixtures shared by the whole suite: a real Celery worker on Redis, headless Chromium, clean caches."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttles, circuit breakers, revocations and sandbox fault profiles live in the cache: start every test clean."""
    from django.core.cache import cache

    from providers import revocation

    cache.clear()
    revocation.memory.forget()
    yield


@pytest.fixture(scope="session")
def worker_mail_dir(tmp_path_factory):
    """Where the real worker's email backend writes the messages it sends (one file per connection)."""
    return tmp_path_factory.mktemp("worker-mail")


@pytest.fixture(scope="session")
def worker_env(django_db_setup, live_server, worker_mail_dir):
    """Environment for processes that must see the test database and the sandbox on the live server."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        pytest.skip("a real worker needs PostgreSQL (set DATABASE_URL)")
    if not settings.CELERY_BROKER_URL:
        pytest.skip("a real worker needs a broker (set CELERY_BROKER_URL)")
    import tokens

    env = dict(os.environ)
    env.update(
        # One deployment, one issuer: the tokens these processes sign verify here, and the other way round.
        ACCESS_TOKEN_ISSUER=tokens.conf.ISSUER,
        # Development processes, whatever the caller's environment says.
        DJANGO_DEBUG="true",
        SANDBOX_ENABLED="true",
        DATABASE_URL=f"postgres://{db['USER'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        SANDBOX_URL=f"{live_server.url}/sandbox",
        PUBLIC_BASE_URL=live_server.url,
        BIMEDOC_BASE_URL=f"{live_server.url}/sandbox/bimedoc",
        BIMEDOC_APP_URL=f"{live_server.url}/sandbox/bimedoc-app",
        EDIN_BASE_URL=f"{live_server.url}/sandbox/edin",
        EMAIL_URL=f"filemail:///{worker_mail_dir}",
        DELIVERY_GATEWAY_BACKEND="providers.mcg.gateways.HttpGateway",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_worker(env, *, name="w1", concurrency=2, log_name="celery-worker.log", pool="prefork"):
    """Start a Celery worker process on every queue; return it once it answers a ping."""
    from portal.celery import app

    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-l",
            "INFO",
            "-n",
            f"{name}@%h",
            "-c",
            str(concurrency),
            "-P",
            pool,
            "-Q",
            settings.CELERY_WORKER_QUEUES,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Celery worker exited early; see {ARTIFACTS / log_name}")
        replies = app.control.ping(timeout=1.0) or []
        if any(name in next(iter(r)) for r in replies):
            return proc
    proc.kill()
    raise RuntimeError("Celery worker did not answer a ping within 60 s")


@contextlib.contextmanager
def tasks_routed_to(queue, settings):
    """Route job and provider tasks (and their retries) to ``queue``, consumed only by a test's own workers."""
    from portal.celery import app

    previous = app.conf.task_routes, app.conf.task_always_eager
    app.conf.task_routes = {"onboarding.tasks.run_job": {"queue": queue}, "providers.*": {"queue": queue}}
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_WORKER_QUEUES = queue
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()
    try:
        yield
    finally:
        app.conf.task_routes, app.conf.task_always_eager = previous
        app.amqp.flush_routes()
        app.amqp.router = app.amqp.Router()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandbox_process(env, *args):
    """``manage.py run_sandbox`` on a free port; returns (process, base URL) once the Bimedoc simulator answers."""
    import requests

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", str(port), "--quiet", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/sandbox"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/bimedoc/_state", timeout=1)
            return proc, base
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"manage.py run_sandbox did not answer on port {port} within 30 s")


def stop_worker(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def celery_worker_process(worker_env):
    """A real Celery worker on Redis for the whole session, consuming every queue."""
    proc = start_worker(worker_env)
    yield proc
    stop_worker(proc)


@pytest.fixture
def celery_worker(celery_worker_process, transactional_db, settings):
    """Send tasks to the real worker (not in-process) for this test; needs committed data."""
    from portal.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Drop anything a previous test left queued.
    app.control.purge()
    yield celery_worker_process
    app.conf.task_always_eager = True


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright_sync = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}: install Debian's chromium package (make test does).")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    """A fresh browser page (own cookies) against the live server; axe-core checks every portal page it loads."""
    from tests.browser.axe import PageChecker

    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15000)
    checker = PageChecker(page, live_server.url)
    page.on("load", checker.on_load)
    page.axe = checker
    yield page
    context.close()
    checker.assert_clean()


def loaded_image_width(locator) -> int:
    """The natural width of an <img> once the browser has finished loading it (0 if it failed to load)."""
    locator.wait_for()
    locator.page.wait_for_function("img => img.complete", arg=locator.element_handle())
    return locator.evaluate("img => img.naturalWidth")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def override_step():
    """``override_step(kind, step, run)``: run ``run`` in place of a job step for the rest of the test.

    The job engine's public seam for injecting faults (``onboarding.jobs.override_step``).
    """
    from contextlib import ExitStack

    from onboarding import jobs

    with ExitStack() as stack:
        yield lambda kind, step, run: stack.enter_context(jobs.override_step(kind, step, run))


@pytest.fixture
def unpublished():
    """Jobs are saved but their task is not sent: the test runs them itself (or the sweep does)."""
    from onboarding import jobs

    with jobs.publishing(None):
        yield
