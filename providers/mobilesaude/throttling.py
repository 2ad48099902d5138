"""Sliding-window counters of failed attempts, kept in the shared cache (Redis in production).

Each counter is two fixed buckets (this window and the previous one); the previous
bucket counts in proportion to how much of it still lies inside the sliding window.
An attempt is counted before it is tried and compared after the (atomic) increment,
so concurrent attempts cannot all slip under the limit; an attempt that turns out
blocked, or successful, is given back. Blocked attempts are thus not counted, a
lockout always ends at most two windows after the last counted failure, and memory
per key is bounded (two integers with a TTL).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

KEY_PREFIX = "mobilesaude:throttle"


@dataclass(frozen=True)
class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds for each identity."""

    name: str
    limit: int
    window: int

    def _key(self, identity: str, bucket: int) -> str:
        digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"{KEY_PREFIX}:{self.name}:{digest}:{bucket}"

    def _counts(self, identity: str, now: float) -> tuple[int, int, int]:
        bucket = int(now // self.window)
        values = cache.get_many([self._key(identity, bucket - 1), self._key(identity, bucket)])
        return bucket, int(values.get(self._key(identity, bucket - 1), 0)), int(values.get(self._key(identity, bucket), 0))

    def retry_after(self, identity: str, now: float | None = None) -> int:
        """Seconds until the identity may try again (0 when it may try now)."""
        now = time.time() if now is None else now
        bucket, previous, current = self._counts(identity, now)
        elapsed = (now - bucket * self.window) / self.window
        if previous * (1 - elapsed) + current < self.limit:
            return 0
        if current >= self.limit:
            # This bucket alone is over the limit: wait for it to become the previous
            # bucket and to fade below the limit.
            wait = (bucket + 1) * self.window - now + self.window * (1 - self.limit / current)
        else:
            wait = self.window * (1 - (self.limit - current) / previous) - (now - bucket * self.window)
        return max(1, math.ceil(wait))

    def hit(self, identity: str, now: float | None = None) -> int:
        """Count one event; the bucket's new count."""
        now = time.time() if now is None else now
        key = self._key(identity, int(now // self.window))
        cache.add(key, 0, timeout=2 * self.window)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=2 * self.window)
            return 1

    def acquire(self, identity: str, now: float | None = None) -> int:
        """Count an attempt, then compare: 0 when it may go ahead, else the seconds to wait (and it is not counted)."""
        now = time.time() if now is None else now
        bucket = int(now // self.window)
        current = self.hit(identity, now)
        previous = int(cache.get(self._key(identity, bucket - 1)) or 0)
        elapsed = (now - bucket * self.window) / self.window
        if previous * (1 - elapsed) + current - 1 < self.limit:
            return 0
        self.release(identity, now)
        return self.retry_after(identity, now)

    def release(self, identity: str, now: float | None = None) -> None:
        """Give back an attempt counted by acquire() (it was blocked, or it succeeded)."""
        now = time.time() if now is None else now
        try:
            cache.decr(self._key(identity, int(now // self.window)))
        except ValueError:  # the bucket expired meanwhile: nothing to give back
            pass

    def reset(self, identity: str, now: float | None = None) -> None:
        """Forget the identity's events."""
        now = time.time() if now is None else now
        bucket = int(now // self.window)
        cache.delete_many([self._key(identity, bucket - 1), self._key(identity, bucket)])


def address_identity(address: str) -> str:
    """The throttled unit for a client address: the address itself, or its /64 network for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
