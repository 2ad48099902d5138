"""One circuit breaker per provider, shared by every process through Redis (pybreaker's storage).

After ``CIRCUIT_BREAKER_FAIL_MAX`` consecutive failures (5xx, timeouts,
connection errors) calls to that provider stop for
``CIRCUIT_BREAKER_RESET_TIMEOUT`` seconds; then one trial call decides whether
it closes again. Without Redis (development) each process keeps its own state.

The breaker is a gate, not a wrapper: a caller asks before sending
(``before_call``) and reports the outcome after (``success``/``failure``).
Nothing is held while the call is in flight, so any number of calls to a
provider run at once (pybreaker's own ``call()`` holds a lock around the
wrapped function, which runs one call at a time per process).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pybreaker
import redis

from . import conf

logger = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = pybreaker.STATE_CLOSED, pybreaker.STATE_OPEN, pybreaker.STATE_HALF_OPEN

_breakers: dict[str, ProviderBreaker] = {}
_lock = threading.Lock()


class _SharedStorage(pybreaker.CircuitRedisStorage):
    """pybreaker's Redis storage, which can also read the state and the failure count in one round trip."""

    def state_and_counter(self) -> tuple[str, int]:
        try:
            state, counter = self._redis.mget(self._namespace("state"), self._namespace("fail_counter"))
        except redis.RedisError:
            logger.exception("RedisError: falling back to the default circuit state")
            return self._fallback_circuit_state, 0
        if state is None:
            return self.state, self.counter
        return state.decode(), int(counter or 0)

    # pybreaker keeps the opening time in whole seconds, which cuts the pause short by up to a
    # second (with a one-second reset timeout, a call right after the opening could be the trial).
    @property
    def opened_at(self) -> datetime | None:
        try:
            value = self._redis.get(self._namespace("opened_at"))
        except redis.RedisError:
            logger.exception("RedisError: the circuit's opening time is unknown")
            return None
        return datetime.fromtimestamp(float(value), UTC) if value else None

    @opened_at.setter
    def opened_at(self, now: datetime) -> None:
        try:
            self._redis.set(self._namespace("opened_at"), repr(now.timestamp()))
        except redis.RedisError:
            logger.exception("RedisError: the circuit's opening time was not stored")


@dataclass(frozen=True)
class Permit:
    """A call let through: whether it is the half-open trial, and whether failures were counted when it left."""

    trial: bool = False
    failures_seen: bool = False


class CircuitOpen(Exception):
    """The circuit does not let this call through; ``retry_in`` seconds until it may."""

    def __init__(self, retry_in: float):
        super().__init__(retry_in)
        self.retry_in = retry_in


class _TrialSlot:
    """Who makes the half-open trial call: one caller at a time, across processes when on Redis.

    The claim expires by itself (``lease`` seconds), so a caller that dies mid-trial does not keep
    the circuit half-open forever.
    """

    def __init__(self, client: redis.Redis | None, key: str):
        self._client = client
        self._key = key
        self._local_until = 0.0
        self._local_lock = threading.Lock()

    def claim(self, lease: float) -> bool:
        if self._client is not None:
            try:
                return bool(self._client.set(self._key, "1", nx=True, px=max(1, int(lease * 1000))))
            except redis.RedisError:
                logger.exception("Circuit %s: cannot claim the trial call in Redis; letting it through", self._key)
                return True
        with self._local_lock:
            now = time.monotonic()
            if now < self._local_until:
                return False
            self._local_until = now + lease
            return True

    def release(self) -> None:
        if self._client is not None:
            try:
                self._client.delete(self._key)
            except redis.RedisError:
                logger.exception("Circuit %s: cannot release the trial call in Redis", self._key)
            return
        with self._local_lock:
            self._local_until = 0.0


class ProviderBreaker:
    """A provider's circuit: state in pybreaker's storage, checked before a call and updated after it.

    ``before_call()`` raises ``CircuitOpen`` while the circuit is open, and lets
    exactly one trial through once the pause is over; it returns a ``Permit``
    (whether the caller holds that trial). The caller then reports
    ``success(permit)``, ``failure(permit)`` or, when the call ended for a reason
    that says nothing about the provider, ``abandon(permit)``.
    """

    def __init__(
        self,
        name: str,
        *,
        fail_max: int,
        reset_timeout: float,
        storage: pybreaker.CircuitBreakerStorage,
        trial: _TrialSlot,
        trial_lease: float,
    ):
        self.name = name
        self.fail_max = fail_max
        self.reset_timeout = reset_timeout
        self._storage = storage
        self._trial = trial
        self._trial_lease = trial_lease

    @property
    def current_state(self) -> str:
        return self._storage.state

    @property
    def fail_counter(self) -> int:
        return self._storage.counter

    def seconds_until_retry(self) -> float:
        """How long until an open circuit lets a trial call through (0 when not open)."""
        if self.current_state != OPEN:
            return 0.0
        opened_at = self._storage.opened_at
        if opened_at is None:
            return float(self.reset_timeout)
        elapsed = (datetime.now(UTC) - opened_at.replace(tzinfo=opened_at.tzinfo or UTC)).total_seconds()
        return max(0.0, self.reset_timeout - elapsed)

    def before_call(self) -> Permit:
        """Let the call through (``Permit.trial``: it is the half-open trial) or raise CircuitOpen."""
        if isinstance(self._storage, _SharedStorage):
            state, counter = self._storage.state_and_counter()
        else:
            state, counter = self._storage.state, self._storage.counter
        if state == CLOSED:
            return Permit(failures_seen=counter > 0)
        if state == OPEN:
            remaining = self.seconds_until_retry()
            if remaining > 0:
                raise CircuitOpen(remaining)
        # The pause is over (or a trial is due): one caller, across processes, tries.
        if not self._trial.claim(self._trial_lease):
            raise CircuitOpen(0.0)
        if state == OPEN:
            self._set(HALF_OPEN)
        return Permit(trial=True, failures_seen=True)

    def success(self, permit: Permit = Permit(failures_seen=True)) -> None:  # noqa: B008 - immutable
        # Resetting a count that was 0 when the call left would only cost a round trip.
        if permit.failures_seen:
            self._storage.reset_counter()
        if permit.trial:
            self.close()

    def failure(self, permit: Permit = Permit()) -> None:  # noqa: B008 - immutable
        self._storage.increment_counter()
        if permit.trial:
            self.open()
        elif self.current_state == CLOSED and self._storage.counter >= self.fail_max:
            self.open()

    def abandon(self, permit: Permit = Permit()) -> None:  # noqa: B008 - immutable
        """The call ended without telling anything about the provider: free the trial for another caller."""
        if permit.trial:
            self._trial.release()

    def open(self) -> None:
        """Open the circuit: calls stop for ``reset_timeout`` seconds."""
        self._storage.opened_at = datetime.now(UTC)
        self._set(OPEN)
        self._trial.release()

    def close(self) -> None:
        """Close the circuit: calls go through again."""
        self._storage.reset_counter()
        self._storage.reset_success_counter()
        self._set(CLOSED)
        self._trial.release()

    def _set(self, state: str) -> None:
        previous = self._storage.state
        self._storage.state = state
        if previous != state:
            logger.warning("Circuit for %s: %s -> %s", self.name, previous, state)


def _redis_client():
    url = conf.circuit_breaker.REDIS_URL
    if not url:
        return None
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _storage(provider: str, client=None):
    client = client if client is not None else _redis_client()
    if client is None:
        return pybreaker.CircuitMemoryStorage(CLOSED)
    return _SharedStorage(CLOSED, client, namespace=f"portal:circuit:{provider}")


def breaker_for(provider: str) -> ProviderBreaker:
    """The process's handle on the provider's (shared) breaker."""
    breaker = _breakers.get(provider)
    if breaker is None:
        with _lock:
            breaker = _breakers.get(provider)
            if breaker is None:
                client = _redis_client()
                connect, read = conf.timeout()
                breaker = ProviderBreaker(
                    provider,
                    fail_max=conf.circuit_breaker.FAIL_MAX,
                    reset_timeout=conf.circuit_breaker.RESET_TIMEOUT,
                    storage=_storage(provider, client),
                    trial=_TrialSlot(client, f"portal:circuit:{provider}:trial"),
                    # Longer than any one call: a trial that outlives it was lost with its caller.
                    trial_lease=connect + read + 5,
                )
                _breakers[provider] = breaker
    return breaker


def is_available(provider: str) -> bool:
    """False while the provider's circuit is open (calls paused)."""
    return breaker_for(provider).current_state != OPEN


def seconds_until_retry(provider: str) -> float:
    """How long until an open circuit lets a trial call through (0 when closed)."""
    return breaker_for(provider).seconds_until_retry()


def forget() -> None:
    """Drop this process's breaker handles: the next call builds them again from the settings (the state stays shared)."""
    with _lock:
        _breakers.clear()


def reset(provider: str) -> None:
    """Close the provider's circuit (admins, tests)."""
    breaker_for(provider).close()
