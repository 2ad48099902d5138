"""Settings every outbound call shares: timeouts and pools, the circuit breakers, the pace's storage."""

from portal.appconf import AppSettings, Setting, positive


def _cache_redis_url(settings) -> str:
    return getattr(settings, "CACHE_REDIS_URL", "")


outbound = AppSettings(
    "PROVIDER",
    [
        Setting("CONNECT_TIMEOUT", 3.05, float, "Seconds to connect, on every outbound call.", check=positive),
        Setting("READ_TIMEOUT", 15.0, float, "Seconds to wait for an answer, on every outbound call.", check=positive),
        Setting(
            "HTTP_POOL_SIZE",
            32,
            int,
            "Connections kept per provider host by each process: at least the worker's concurrency (threads pool).",
            check=positive,
        ),
    ],
)

circuit_breaker = AppSettings(
    "CIRCUIT_BREAKER",
    [
        Setting("FAIL_MAX", 5, int, "Consecutive failures of a provider that pause calls to it.", check=positive),
        Setting("RESET_TIMEOUT", 30, int, "Seconds calls stay paused before one trial call.", check=positive),
        Setting("REDIS_URL", _cache_redis_url, str, "Where the breakers' state is shared (default: the Redis cache)."),
    ],
)

rate_limit = AppSettings(
    "RATE_LIMIT",
    [
        Setting(
            "STORAGE_URL",
            lambda settings: _cache_redis_url(settings) or "memory://",
            str,
            "Where the providers' shared pace is counted (a `limits` storage URL; default: the Redis cache).",
        ),
    ],
)


def timeout() -> tuple[float, float]:
    """(connect, read) seconds for every outbound call."""
    return (outbound.CONNECT_TIMEOUT, outbound.READ_TIMEOUT)


def check_at_start_up() -> None:
    for conf in (outbound, circuit_breaker, rate_limit):
        conf.check_at_start_up()
