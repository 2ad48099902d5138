"""Latency and fault injection shared by every simulator.

A simulator's profile lives in the cache (Redis when CACHE_URL is set, so every
process serving the sandbox sees it) and is changed over HTTP at
``/sandbox/<simulator>/_faults`` or with ``set_profile()``. Faults:

- ``error_rate``: answer 503 without acting;
- ``timeout_before_rate``: stall for ``stall_seconds`` then answer 504, without acting;
  (``latency_ms`` and ``stall_seconds`` are capped at 30 s);
- ``timeout_after_rate``: act, then stall for ``stall_seconds`` before answering;
- ``malformed_rate``: act, then answer 200 with a body that is not JSON;
- ``reset_rate``: act, then drop the connection without answering (the
  client sees the connection reset/closed: the outcome is unknown to it);
- ``throttle_rate``: answer 429 with ``Retry-After: <retry_after>`` (seconds)
  without acting, as a provider does when its rate limit is exceeded.

Every request a decorated view receives is counted per simulator before any
fault (``requests_received()``), so that benchmarks can compare what reached
the provider with what the portal recorded.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import socket
import struct
import time
from dataclasses import asdict, dataclass, fields

from django.core.cache import cache
from django.http import HttpResponse, JsonResponse

CACHE_KEY = "sandbox:faults:{}"
REQUESTS_KEY = "sandbox:requests:{}"
# Longest latency and stall a profile may ask for: a sandbox must not tie its workers up for minutes.
MAX_DELAY_SECONDS = 30.0
RATES = ("error_rate", "timeout_before_rate", "timeout_after_rate", "malformed_rate", "reset_rate", "throttle_rate")
logger = logging.getLogger(__name__)


@dataclass
class FaultProfile:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    timeout_before_rate: float = 0.0
    timeout_after_rate: float = 0.0
    malformed_rate: float = 0.0
    reset_rate: float = 0.0
    stall_seconds: float = 20.0
    throttle_rate: float = 0.0
    retry_after: float = 1.0

    @classmethod
    def from_dict(cls, data: dict) -> FaultProfile:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown fault settings: {', '.join(sorted(unknown))}")
        profile = cls(**{k: float(v) for k, v in data.items()})
        for name in RATES:
            if not 0 <= getattr(profile, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if sum(getattr(profile, name) for name in RATES) > 1:
            raise ValueError("The fault rates must not add up to more than 1")
        if profile.latency_ms < 0 or profile.stall_seconds < 0:
            raise ValueError("latency_ms and stall_seconds must not be negative")
        if profile.latency_ms > MAX_DELAY_SECONDS * 1000 or profile.stall_seconds > MAX_DELAY_SECONDS:
            raise ValueError(f"latency_ms and stall_seconds are capped at {MAX_DELAY_SECONDS:g} s")
        if profile.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        return profile


def get_profile(simulator: str) -> FaultProfile:
    data = cache.get(CACHE_KEY.format(simulator))
    if not data:
        return FaultProfile()
    profile = FaultProfile(**data)
    # A profile stored before the cap (or written around it) is capped when read.
    profile.latency_ms = min(profile.latency_ms, MAX_DELAY_SECONDS * 1000)
    profile.stall_seconds = min(profile.stall_seconds, MAX_DELAY_SECONDS)
    return profile


def set_profile(simulator: str, profile: FaultProfile | None) -> None:
    if profile is None:
        cache.delete(CACHE_KEY.format(simulator))
    else:
        cache.set(CACHE_KEY.format(simulator), asdict(profile), timeout=None)


def count_request(simulator: str) -> None:
    key = REQUESTS_KEY.format(simulator)
    try:
        cache.incr(key)  # one round trip once the counter exists
    except ValueError:
        # The first request (or the first since a reset); of two at once, the one that loses the add counts on.
        if not cache.add(key, 1, timeout=None):
            cache.incr(key)


def requests_received(simulator: str) -> int:
    """How many requests the simulator's decorated views received (faulted or not) since the last reset."""
    return int(cache.get(REQUESTS_KEY.format(simulator)) or 0)


def reset_requests(simulator: str) -> None:
    cache.delete(REQUESTS_KEY.format(simulator))


def _client_socket(request):
    """The socket of the client connection serving this request (Django's development/test servers), or None."""
    stream = request.META.get("wsgi.input")
    reader = getattr(getattr(stream, "_read", None), "__self__", None)  # LimitedStream -> the handler's rfile
    raw = getattr(reader, "raw", None)
    return getattr(raw, "_sock", None)


def _drop_connection(request) -> bool:
    """Reset the client's connection: no answer will reach it. False when the server gives no access to the socket."""
    sock = _client_socket(request)
    if sock is None:
        return False
    # Linger 0: closing sends RST rather than FIN; shutting down now stops the answer from ever leaving.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    return True


# WSGI environ key: when the server read the request (time.monotonic()), set by ``run_sandbox``'s server.
ARRIVED = "sandbox.arrived"


def with_faults(simulator: str):
    """Decorate a simulator view: add latency and faults from the simulator's profile."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            arrived = request.META.get(ARRIVED) or time.monotonic()
            count_request(simulator)
            profile = get_profile(simulator)
            roll = random.random()
            acts = roll >= profile.error_rate + profile.timeout_before_rate + profile.throttle_rate
            if profile.latency_ms and not acts:
                time.sleep(profile.latency_ms / 1000)
            threshold = profile.error_rate
            if roll < threshold:
                return JsonResponse({"detail": "Service temporarily unavailable (sandbox fault)."}, status=503)
            threshold += profile.timeout_before_rate
            if roll < threshold:
                time.sleep(profile.stall_seconds)
                return JsonResponse({"detail": "Gateway timeout (sandbox fault)."}, status=504)
            threshold += profile.throttle_rate
            if roll < threshold:
                response = JsonResponse({"detail": "Request was throttled (sandbox fault)."}, status=429)
                response["Retry-After"] = str(int(round(profile.retry_after)))
                return response
            response = view(request, *args, **kwargs)
            # The answer leaves latency_ms after the request arrived, however long the work itself took.
            time.sleep(max(0.0, arrived + profile.latency_ms / 1000 - time.monotonic()))
            threshold += profile.timeout_after_rate
            if roll < threshold:
                time.sleep(profile.stall_seconds)
                return response
            threshold += profile.malformed_rate
            if roll < threshold and response.status_code < 300:
                return HttpResponse("<html>upstream error", status=200, content_type="application/json")
            threshold += profile.reset_rate
            if roll < threshold and not _drop_connection(request):
                logger.warning("Sandbox %s: cannot reset a connection under this server; answering normally", simulator)
            return response

        return wrapper

    return decorator


def profile_response(simulator: str, request_body: bytes | None):
    """GET shows the profile; PUT/POST replaces it; DELETE resets it."""
    if request_body is not None:
        try:
            data = json.loads(request_body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("Send a JSON object.")
            set_profile(simulator, FaultProfile.from_dict(data))
        except (ValueError, TypeError) as exc:
            return JsonResponse({"detail": str(exc)}, status=400)
    return JsonResponse(asdict(get_profile(simulator)))
