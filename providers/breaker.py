"""One circuit breaker per provider, shared by every process through Redis (pybreaker).

After ``CIRCUIT_BREAKER_FAIL_MAX`` consecutive failures (5xx, timeouts,
connection errors) calls to that provider stop for
``CIRCUIT_BREAKER_RESET_TIMEOUT`` seconds; then one trial call decides whether
it closes again. Without Redis (development) each process keeps its own state.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pybreaker
import redis
from django.conf import settings

logger = logging.getLogger(__name__)

_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()


class _LogTransitions(pybreaker.CircuitBreakerListener):
    def state_change(self, cb, old_state, new_state):
        logger.warning("Circuit for %s: %s -> %s", cb.name, getattr(old_state, "name", old_state), new_state.name)


def _storage(provider: str):
    url = settings.CIRCUIT_BREAKER_REDIS_URL
    if not url:
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, client, namespace=f"portal:circuit:{provider}")


def breaker_for(provider: str) -> pybreaker.CircuitBreaker:
    """The process's handle on the provider's (shared) breaker."""
    breaker = _breakers.get(provider)
    if breaker is None:
        with _lock:
            breaker = _breakers.get(provider)
            if breaker is None:
                breaker = pybreaker.CircuitBreaker(
                    fail_max=settings.CIRCUIT_BREAKER_FAIL_MAX,
                    reset_timeout=settings.CIRCUIT_BREAKER_RESET_TIMEOUT,
                    state_storage=_storage(provider),
                    listeners=[_LogTransitions()],
                    name=provider,
                    throw_new_error_on_trip=False,
                )
                _breakers[provider] = breaker
    return breaker


def is_available(provider: str) -> bool:
    """False while the provider's circuit is open (calls paused)."""
    return breaker_for(provider).current_state != pybreaker.STATE_OPEN


def seconds_until_retry(provider: str) -> float:
    """How long until an open circuit lets a trial call through (0 when closed)."""
    breaker = breaker_for(provider)
    if breaker.current_state != pybreaker.STATE_OPEN:
        return 0.0
    opened_at = breaker._state_storage.opened_at
    if opened_at is None:
        return float(breaker.reset_timeout)
    elapsed = (datetime.now(UTC) - opened_at.replace(tzinfo=opened_at.tzinfo or UTC)).total_seconds()
    return max(0.0, breaker.reset_timeout - elapsed)


def reset(provider: str) -> None:
    """Close the provider's circuit (admins, tests)."""
    breaker_for(provider).close()
