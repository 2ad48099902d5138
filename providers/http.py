"""The one path every outbound call takes: a shared session factory, timing, redaction and recording.

Clients build an ``HttpTransport`` and call ``send()``; the transport times the
call, redacts secrets from the excerpts and hands a ``CallRecord`` to the
recorder it was given (the portal's writes the audit trail). Clients never
write audit code of their own, and hold no Django models.

Write-ahead: a recorder with ``start(record) -> handle`` and
``finish(handle, record)`` (the ``AuditRecorder`` protocol) is told about a
call *before* it is sent (outcome ``in_flight``) and completes that same record
after, so a call made by a process killed mid-call still leaves a record. A
plain callable recorder receives the completed record only.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import requests
from requests.adapters import HTTPAdapter

if TYPE_CHECKING:
    from .breaker import ProviderBreaker

logger = logging.getLogger(__name__)

EXCERPT_LIMIT = 2000
REDACTED = "[redacted]"
# Connections kept per host in a session's pool: at least the number of threads that call at once.
DEFAULT_POOL_SIZE = 20
# A Retry-After longer than this (seconds) is read as this: a job never sleeps on one answer for longer.
RETRY_AFTER_CAP = 3600.0
# Seconds allowed for a call to travel from the portal to the provider (and for callers to be out of
# step): the pace keeps this much more than a second between a call and the one that replaces it.
PACE_MARGIN = 0.1

# Keys whose values never leave the transport in clear, in bodies and headers.
SECRET_KEYS = frozenset(
    {
        "password",
        "senha",
        "token",
        "sso_token",
        "access_token",
        "refresh_token",
        "api_key",
        "apikey",
        "secret",
        "client_secret",
        "authorization",
        "cookie",
        "set-cookie",
        "sid",
        "jwt",
    }
)
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class ProviderError(Exception):
    """A provider call failed; ``message`` is safe to show and to store (no secrets)."""

    retryable = False

    def __init__(self, message: str, *, provider: str = "", status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code


class AuthenticationError(ProviderError):
    """The provider refused our credentials."""


class InvalidRequest(ProviderError):
    """The provider refused the request's content; ``field_errors`` maps field names to messages."""

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.field_errors = field_errors or {}


class Conflict(InvalidRequest):
    """The thing to create already exists at the provider."""


class RetryableError(ProviderError):
    """A transient failure (timeout, connection error, 5xx, 429): trying again later may succeed."""

    retryable = True


class OutcomeUnknown(RetryableError):
    """The request was sent but no answer came back: the provider may or may not have acted on it."""


class InvalidResponse(RetryableError):
    """The provider answered with a body we could not read."""


class ProviderUnavailable(RetryableError):
    """Calls to this provider are paused (circuit open) after repeated failures."""


class Throttled(ProviderUnavailable):
    """The provider asked to slow down (429/503 with Retry-After), or no rate-limit slot is free soon enough.

    ``retry_after`` is how long (s) to wait before calling again; waiting costs no retry.
    """

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry policy for outbound work: exponential backoff with jitter, up to a cap, for so many retries.

    Try ``n`` (1 for the first failure) waits a random time between half and all
    of ``base_delay * 2 ** (n - 1)``, never more than ``max_delay``; past
    ``max_retries`` failures the work gives up.
    """

    max_retries: int
    base_delay: float
    max_delay: float = 300.0
    jitter: bool = True

    def exhausted(self, failures: int) -> bool:
        """Whether ``failures`` failed tries are more than the policy allows."""
        return failures > self.max_retries

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed try."""
        delay = min(self.max_delay, self.base_delay * 2 ** max(failures - 1, 0))
        return random.uniform(delay / 2, delay) if self.jitter else delay


@dataclass(frozen=True)
class CallRecord:
    """What the recorder receives about one call; excerpts are already redacted."""

    provider: str
    operation: str
    method: str
    path: str
    status_code: int | None
    duration_ms: float
    outcome: str
    request_excerpt: str = ""
    response_excerpt: str = ""
    error: str = ""


Recorder = Callable[[CallRecord], None]
IN_FLIGHT = "in_flight"


@runtime_checkable
class AuditRecorder(Protocol):
    """A recorder that writes ahead: ``start`` before sending, ``finish`` with the same handle after."""

    def __call__(self, record: CallRecord) -> None: ...

    def start(self, record: CallRecord) -> Any: ...

    def finish(self, handle: Any, record: CallRecord) -> None: ...


def null_recorder(record: CallRecord) -> None:
    """A recorder that keeps nothing (for tools that run outside the portal)."""


def build_session(pool_size: int = DEFAULT_POOL_SIZE) -> requests.Session:
    """The shared factory for provider HTTP sessions (connection pooling, no hidden retries).

    ``pool_size`` is how many connections per host are kept for reuse: size it for
    the threads that share the session (a worker's concurrency), or calls beyond it
    open and drop a new connection each time.
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "pharmacy-portal/1.0"
    # requests would scan the whole environment on every call; a transport reads it once (environment_settings).
    session.trust_env = False
    return session


def environment_settings(url: str) -> dict:
    """What requests takes from the environment for calls to ``url``, read as requests itself reads it.

    The proxies (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and the CA bundle
    (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``). A provider's host is fixed, so once is enough.
    """
    with requests.Session() as session:
        found = session.merge_environment_settings(url, {}, None, None, None)
    return {"proxies": found["proxies"], "verify": found["verify"]}


@dataclass(frozen=True)
class Outbound:
    """What a provider's client is built with: a pooled session, the provider's breaker and pace, timeouts, recorder."""

    provider: str
    session: requests.Session
    breaker: ProviderBreaker
    rate_limiter: RateLimiter | None
    timeout: tuple[float, float]
    recorder: Recorder
    # What else the client depends on, as given to the factory (a base URL, credentials).
    key: tuple = ()

    def transport_options(self) -> dict:
        """What an ``HttpTransport`` (or a client that builds one) takes from here."""
        options = {"recorder": self.recorder, "timeout": self.timeout, "session": self.session, "breaker": self.breaker}
        if self.rate_limiter is not None:
            options["rate_limiter"] = self.rate_limiter
        return options


class ClientFactory:
    """One cached, closable client per provider and configuration, its breaker always wired.

    ``get()`` builds the client once per process and configuration (the threads
    of a worker share it, and its pooled connections); ``close()`` closes the
    pools of the clients built so far, which are rebuilt on demand.
    """

    def __init__(self):
        self._built: dict[tuple, tuple[Any, requests.Session]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        provider: str,
        build: Callable[[Outbound], Any],
        *,
        key: tuple = (),
        recorder: Recorder = null_recorder,
        paced: bool = False,
        max_rps: float = 0.0,
        max_wait: float = 10.0,
        session_factory: Callable[[int], requests.Session] | None = None,
    ):
        """The process's client for ``provider`` (``build(outbound)`` makes it the first time).

        ``key`` holds what else the client depends on (a base URL, credentials): a
        change builds a new one. ``paced``: calls share the provider's pace
        (``max_rps`` for every process together, 0 for none) and its pauses
        (Retry-After), waiting up to ``max_wait`` seconds for a slot.
        """
        from . import conf

        timeout = conf.timeout()
        full_key = (provider, build, key, recorder, timeout, paced, max_rps, max_wait)
        built = self._built.get(full_key)
        if built is not None:
            return built[0]
        with self._lock:
            if full_key not in self._built:
                from .breaker import breaker_for

                session = (session_factory or build_session)(conf.outbound.HTTP_POOL_SIZE)
                limiter = None
                if paced:
                    limiter = RateLimiter(
                        provider, max_rps=max_rps, storage_uri=conf.rate_limit.STORAGE_URL, max_wait=max_wait
                    )
                outbound = Outbound(provider, session, breaker_for(provider), limiter, timeout, recorder, key)
                self._built[full_key] = (build(outbound), session)
            return self._built[full_key][0]

    def close(self, provider: str | None = None) -> None:
        """Close the pooled connections of the clients built so far (of one provider, or all)."""
        with self._lock:
            for full_key in [k for k in self._built if provider is None or k[0] == provider]:
                _client, session = self._built.pop(full_key)
                session.close()


clients = ClientFactory()


def client_for(provider: str, build: Callable[[Outbound], Any], **options):
    """The process's client for ``provider``, from the one factory (see ``ClientFactory.get``)."""
    return clients.get(provider, build, **options)


def close_clients(provider: str | None = None) -> None:
    """Close every provider client's pooled connections (tests, settings changes); they are rebuilt on demand."""
    clients.close(provider)


def redact(value, secrets: Iterable[str] = ()):
    """Return a copy of a JSON-like value with secret keys and known secret strings masked."""
    secret_values = [s for s in secrets if s]
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in SECRET_KEYS else redact(v, secret_values)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secret_values) for v in value]
    if isinstance(value, str):
        for secret in secret_values:
            value = value.replace(secret, REDACTED)
        return _JWT_RE.sub(REDACTED, value)
    return value


def excerpt(value, secrets: Iterable[str] = ()) -> str:
    """A short, redacted text form of a body for the audit trail."""
    if value is None or value == b"" or value == "":
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return redact(value, secrets)[:EXCERPT_LIMIT]
    return json.dumps(redact(value, secrets), ensure_ascii=False, default=str)[:EXCERPT_LIMIT]


class RateLimiter:
    """A provider's shared pace, for every process: at most ``max_rps`` calls in any one-second window, and pauses.

    The window is ``limits``' moving window in Redis (``storage_uri``, e.g.
    ``redis://host:6379/1``; ``memory://`` keeps it per process). A pause is
    what the provider asked for with ``Retry-After``: nobody calls it before the
    pause is over. ``acquire()`` waits for a slot up to ``max_wait`` seconds,
    then raises ``Throttled`` so that the caller can come back later instead.
    ``max_rps`` 0 sets no pace (pauses still apply).
    """

    def __init__(self, provider: str, *, max_rps: float, storage_uri: str, max_wait: float = 10.0):
        from limits import RateLimitItemPerSecond
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.provider = provider
        self.max_rps = max_rps
        self.max_wait = max_wait
        self._item = RateLimitItemPerSecond(int(max_rps), 1) if max_rps >= 1 else None
        self._window = MovingWindowRateLimiter(storage_from_string(storage_uri)) if self._item else None
        self._key = self._item.key_for(provider) if self._item else ""
        self._redis = None
        if storage_uri.startswith(("redis://", "rediss://")):
            import redis

            self._redis = redis.Redis.from_url(storage_uri, socket_timeout=1, socket_connect_timeout=1)
        self._pause_key = f"portal:ratelimit:{provider}:paused_until"
        self._local_pause = 0.0
        self._local_lock = threading.Lock()
        self._queue = threading.Lock()

    def acquire(self) -> None:
        """Wait for a slot (not past ``max_wait``); raise Throttled when none comes soon enough.

        The threads of one process queue for the window: one at a time asks Redis
        and sleeps until a slot frees, so that a crowd of waiters neither polls
        Redis nor, woken together, delays the call that got the slot. The queue is
        left before the call is sent.
        """
        deadline = time.monotonic() + self.max_wait
        if self._window is None:
            self._wait_for_slot(deadline)
            return
        if not self._queue.acquire(timeout=self.max_wait):
            raise self._throttled(1.0)
        try:
            self._wait_for_slot(deadline)
        finally:
            self._queue.release()

    def _wait_for_slot(self, deadline: float) -> None:
        while True:
            wait = self.paused_for()
            if wait <= 0:
                wait = self._try_slot()
                if wait <= 0:
                    return
            if time.monotonic() + wait > deadline:
                raise self._throttled(wait)
            time.sleep(wait)

    def _throttled(self, wait: float) -> Throttled:
        return Throttled(
            f"{self.provider}: calls are paced (at most {self.max_rps:g}/s or as the provider asked); "
            f"trying again in {wait:.0f} s.",
            retry_after=wait,
            provider=self.provider,
        )

    def _try_slot(self) -> float:
        """Take a slot in the window now (0) or say how long until one frees up.

        The window counts when calls leave; the provider counts when they arrive,
        a few milliseconds later and not always in the same order. So a slot is
        taken only once the call it replaces left more than a second and
        ``PACE_MARGIN`` ago: a burst that left at the end of one second does not
        arrive with the next second's calls.
        """
        if self._window is None:
            return 0.0
        amount = self._item.amount
        try:
            # The oldest of the last ``amount`` calls, if they all left in the last two seconds.
            oldest, count = self._window.storage.get_moving_window(self._key, amount, 2)
            wait = oldest + 1 + PACE_MARGIN - time.time()
            if count >= amount and wait > 0:
                return wait
            if self._window.hit(self._item, self.provider):
                return 0.0
            reset, _remaining = self._window.get_window_stats(self._item, self.provider)
        except Exception:  # noqa: BLE001 - the storage is down: do not stop every call with it
            logger.exception("Rate limit of %s unavailable; calling without it", self.provider)
            return 0.0
        return max(0.001, reset + PACE_MARGIN - time.time())

    def pause(self, seconds: float) -> None:
        """Nobody calls the provider for ``seconds`` (a pause already longer is kept)."""
        until = time.time() + min(max(seconds, 0.0), RETRY_AFTER_CAP)
        logger.warning("%s asked for a pause: no calls for %.1f s", self.provider, until - time.time())
        if self._redis is None:
            with self._local_lock:
                self._local_pause = max(self._local_pause, until)
            return

        def extend(pipe):
            current = pipe.get(self._pause_key)
            pipe.multi()
            if current is None or float(current) < until:
                pipe.set(self._pause_key, repr(until), pxat=int(until * 1000) + 1)

        try:
            self._redis.transaction(extend, self._pause_key)
        except Exception:  # noqa: BLE001
            logger.exception("Cannot record the pause of %s in Redis", self.provider)

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when none)."""
        if self._redis is None:
            until = self._local_pause
        else:
            try:
                value = self._redis.get(self._pause_key)
            except Exception:  # noqa: BLE001
                logger.exception("Cannot read the pause of %s from Redis", self.provider)
                return 0.0
            until = float(value) if value else 0.0
        return max(0.0, until - time.time())


def retry_after(response: requests.Response) -> float | None:
    """The response's Retry-After in seconds (delay or HTTP date), None when absent or unreadable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


@dataclass
class HttpTransport:
    """Sends a client's requests, timing, redacting and recording every one of them."""

    provider: str
    base_url: str
    recorder: Recorder = null_recorder
    timeout: tuple[float, float] = (3.05, 15.0)
    session: requests.Session = field(default_factory=build_session)
    breaker: ProviderBreaker | None = None
    rate_limiter: RateLimiter | None = None

    def __post_init__(self):
        self._environment = environment_settings(self.url(""))

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        secrets: Iterable[str] = (),
        **kwargs,
    ) -> requests.Response:
        """Send one request; raise RetryableError subclasses for timeouts and connection errors.

        ``secrets`` are strings (API keys, tokens, passwords) to mask wherever they
        appear in what is recorded, on top of the keys in SECRET_KEYS. With a
        circuit breaker, 5xx answers, timeouts and connection errors count as
        failures, and while the circuit is open nothing is sent:
        ``ProviderUnavailable`` is raised at once. With a rate limiter, the call
        waits for its slot (``Throttled`` when none comes soon enough), and a 429 or
        503 with ``Retry-After`` pauses every caller for that long.
        """
        from .breaker import CircuitOpen

        secrets = [s for s in secrets if s]
        permit = None
        if self.breaker is not None:
            try:
                permit = self.breaker.before_call()
            except CircuitOpen:
                error = "Not sent: calls are paused after repeated failures"
                self._record(operation, method, path, None, 0.0, "circuit_open", None, None, error, secrets)
                message = f"{self.provider} is unavailable; calls are paused for a while."
                raise ProviderUnavailable(message, provider=self.provider)
        try:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            response = self._send(operation, method, path, secrets, kwargs)
        except Throttled:
            if self.breaker is not None:
                self.breaker.abandon(permit)
            raise
        except RetryableError:
            if self.breaker is not None:
                self.breaker.failure(permit)
            raise
        except BaseException:
            if self.breaker is not None:
                self.breaker.abandon(permit)
            raise
        self._honour_retry_after(response)
        if self.breaker is not None:
            if response.status_code >= 500:
                self.breaker.failure(permit)
            else:
                self.breaker.success(permit)
        return response

    def _honour_retry_after(self, response: requests.Response) -> None:
        """A 429, or a 503 with Retry-After: every caller of this provider waits that long."""
        if self.rate_limiter is None or response.status_code not in (429, 503):
            return
        seconds = retry_after(response)
        if seconds is None and response.status_code == 429:
            seconds = 1.0
        if seconds is not None:
            self.rate_limiter.pause(seconds)

    def _send(self, operation: str, method: str, path: str, secrets: list[str], kwargs: dict) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        request_body = kwargs.get("json")
        if request_body is None:
            request_body = kwargs.get("data")
        if kwargs.get("files"):
            request_body = {**(request_body or {}), **{k: _part_excerpt(v) for k, v in kwargs["files"].items()}}
        handle = self._start(operation, method, path, request_body, secrets)
        started = time.perf_counter()
        response = None
        error = ""
        try:
            response = self.session.request(method, self.url(path), **{**self._environment, **kwargs})
        except requests.ConnectTimeout:
            outcome, error, exc = "connection_error", "Connection timed out", RetryableError
        except requests.ReadTimeout:
            outcome, error, exc = "timeout", "No answer in time (the request may have been acted on)", OutcomeUnknown
        except requests.ConnectionError as err:
            # A reset after sending leaves the outcome unknown, just like a read timeout.
            sent = not isinstance(err.__context__, ConnectionRefusedError) and "refused" not in str(err).lower()
            outcome, error = "connection_error", "Connection failed"
            exc = OutcomeUnknown if sent else RetryableError
        except requests.RequestException as err:
            outcome, error, exc = "connection_error", type(err).__name__, RetryableError
        duration_ms = (time.perf_counter() - started) * 1000
        if response is None:
            self._record(operation, method, path, None, duration_ms, outcome, request_body, None, error, secrets, handle)
            raise exc(f"{self.provider}: {error}", provider=self.provider)
        outcome = _outcome_for(response.status_code)
        self._record(
            operation, method, path, response.status_code, duration_ms, outcome, request_body, response.content, "", secrets,
            handle,
        )  # fmt: skip
        return response

    def _start(self, operation, method, path, request_body, secrets):
        """Write the call's record before sending it (write-ahead recorders only); return the recorder's handle."""
        start = getattr(self.recorder, "start", None)
        if start is None:
            return None
        return start(self._call_record(operation, method, path, None, 0.0, IN_FLIGHT, request_body, None, "", secrets))

    def record_invalid_response(self, operation: str, method: str, path: str, response, reason: str, secrets=()):
        """Record that a response could not be read, and return the error to raise."""
        self._record(
            operation, method, path, response.status_code, 0.0, "invalid_response", None, response.content, reason, secrets
        )
        return InvalidResponse(f"{self.provider}: {reason}", provider=self.provider, status_code=response.status_code)

    def _record(
        self, operation, method, path, status_code, duration_ms, outcome, request_body, response_body, error, secrets,
        handle=None,
    ):  # fmt: skip
        if handle is not None:
            # The request was recorded by start(): finish() completes the answer's side only.
            record = self._call_record(
                operation, method, path, status_code, duration_ms, outcome, None, response_body, error, secrets
            )
            self.recorder.finish(handle, record)
        else:
            record = self._call_record(
                operation, method, path, status_code, duration_ms, outcome, request_body, response_body, error, secrets
            )
            self.recorder(record)

    def _call_record(
        self, operation, method, path, status_code, duration_ms, outcome, request_body, response_body, error, secrets
    ) -> CallRecord:
        return CallRecord(
            provider=self.provider,
            operation=operation,
            method=method.upper(),
            path=redact(path, secrets),
            status_code=status_code,
            duration_ms=round(duration_ms, 2),
            outcome=outcome,
            request_excerpt=excerpt(request_body, secrets),
            response_excerpt=excerpt(response_body, secrets),
            error=redact(error, secrets),
        )


def _part_excerpt(part) -> str:
    """A multipart part as recorded: a plain form field, sent as ``(None, text)``, by its text; a file as [file]."""
    if isinstance(part, tuple) and len(part) >= 2 and part[0] is None and isinstance(part[1], str):
        return part[1]
    return "[file]"


def _outcome_for(status_code: int) -> str:
    if status_code < 400:
        return "success"
    if status_code < 500:
        return "client_error"
    return "server_error"


def json_body(response: requests.Response):
    """The response's JSON, or None when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def field_errors_from(body) -> dict[str, list[str]]:
    """Read ``{"field": ["message", ...]}`` style error bodies (the usual REST shape) into a dict."""
    errors: dict[str, list[str]] = {}
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, list):
                errors[str(key)] = [str(v) for v in value]
            elif isinstance(value, str):
                errors[str(key)] = [value]
    return errors


def raise_for_status(transport: HttpTransport, response: requests.Response) -> None:
    """Map an HTTP error status onto the error hierarchy; do nothing on success."""
    status = response.status_code
    if status < 400:
        return
    body = json_body(response)
    errors = field_errors_from(body)
    detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())[:500]
    kwargs = {"provider": transport.provider, "status_code": status}
    if status in (401, 403):
        raise AuthenticationError(f"{transport.provider} refused the credentials ({status}).", **kwargs)
    if status == 409:
        raise Conflict(detail or f"{transport.provider}: already exists.", field_errors=errors, **kwargs)
    wait = retry_after(response) if status in (429, 503) else None
    if wait is not None:
        raise Throttled(
            f"{transport.provider} asked the portal to wait {wait:.0f} s ({status}).", retry_after=wait, **kwargs
        )
    if status in (408, 425, 429) or status >= 500:
        raise RetryableError(f"{transport.provider} is unavailable ({status}).", **kwargs)
    raise InvalidRequest(detail or f"{transport.provider} refused the request ({status}).", field_errors=errors, **kwargs)
