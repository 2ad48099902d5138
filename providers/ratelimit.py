"""Rate limits shared by every process, with the `limits` library on the Redis cache's server.

A rate is written in `limits`' notation ("120/minute", "10/second;1000/hour").
Each hit is counted and compared atomically in Redis (a sliding window counter),
so concurrent requests cannot slip past the limit together.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from django.conf import settings
from limits import parse_many, storage, strategies


@lru_cache(maxsize=4)
def _limiter(url: str) -> strategies.SlidingWindowCounterRateLimiter:
    return strategies.SlidingWindowCounterRateLimiter(storage.storage_from_string(url))


@lru_cache(maxsize=32)
def _items(rate: str):
    return parse_many(rate)


def hit(rate: str, namespace: str, identity: str) -> int:
    """Count one event for ``identity``; 0 when within ``rate``, else the seconds to wait (the event is not counted)."""
    limiter = _limiter(settings.RATELIMIT_STORAGE_URL)
    items = _items(rate)
    if all(limiter.hit(item, namespace, identity) for item in items):
        return 0
    now = time.time()
    stats = [limiter.get_window_stats(item, namespace, identity) for item in items]
    waits = [window.reset_time - now for window in stats if window.remaining <= 0] or [1]
    return max(1, math.ceil(max(waits)))
