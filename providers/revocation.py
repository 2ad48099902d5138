"""Whether a portal access token is revoked, answered the same in every process within a second.

A token is void when its ``jti`` was revoked, when its OAuth client is unknown or
inactive, or when it was issued before the client's tokens were last voided: each
client has a token *generation* (an integer bumped on secret reset, deactivation
and reactivation) and every token carries the generation it was issued under in
its ``gen`` claim. Comparing generations is exact, where comparing whole-second
issue times let a token minted in the second of a reset survive it.

The shared answer lives in the cache (Redis), filled from the database on a miss.
Each process also keeps the answers it has seen in memory and trusts them without
a round trip while its Redis pub/sub subscription is known healthy: every change
is pushed on one channel, and the process's listener thread publishes a heartbeat
on its own channel every ``BEAT`` seconds. Redis delivers a connection's messages
in publish order, so receiving a heartbeat sent at time *t* proves every change
published before *t* has been applied. Memory is trusted only while the last
heartbeat round trip was sent less than ``REVOCATION_PUSH_MAX_AGE`` seconds ago;
otherwise (Redis away, listener stalled, no Redis in development) every answer
comes from the shared cache. A lost subscription forgets the memory.
"""

from __future__ import annotations

import json
import logging
import os
import select
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

import tokens

logger = logging.getLogger(__name__)

REVOKED_KEY = "revocation:jti:{}"
CLIENT_KEY = "revocation:client:{}"
# How long the shared cache keeps a client's state and a "not revoked" answer; changes overwrite them at once.
SHARED_TTL = 600
BEAT = 0.25
# A subscription with no heartbeat back for this long is dropped and made again.
SILENCE_LIMIT = 3.0
MEMO_SIZE = 100_000


@dataclass(frozen=True)
class ClientState:
    active: bool
    generation: int


UNKNOWN_CLIENT = ClientState(active=False, generation=-1)

# Client id prefix -> loader of that kind of client's state from the database (registered by the apps).
_loaders: dict[str, Callable[[str], ClientState | None]] = {}


def register_clients(prefix: str, loader: Callable[[str], ClientState | None]) -> None:
    """Say how to read the state of clients whose id starts with ``prefix`` (None: no such client)."""
    _loaders[prefix] = loader


def load_client(client_id: str) -> ClientState:
    """The client's state from the database."""
    for prefix in sorted(_loaders, key=len, reverse=True):
        if client_id.startswith(prefix):
            return _loaders[prefix](client_id) or UNKNOWN_CLIENT
    return UNKNOWN_CLIENT


# The jti of a client that proved itself with its secret (``client_caller``): never a token's, never revoked by jti.
CLIENT_CALLER_PREFIX = "client-secret:"


def client_caller(client_id: str, generation: int) -> dict:
    """A client that proved itself with its secret, as claims this module answers about.

    Its ``gen`` is the client's token generation when its secret was checked, so it is void
    exactly when the client's tokens are (secret reset, deactivation). Its ``jti`` is no
    token's (token jtis are random hex): only the client's state is looked up for it.
    """
    return {"jti": CLIENT_CALLER_PREFIX + client_id, "client_id": client_id, "gen": generation}


def _revocable(jti: str) -> bool:
    return not jti.startswith(CLIENT_CALLER_PREFIX)


def token_generation(claims: dict) -> int:
    value = claims.get("gen", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else -2


def is_void(claims: dict, *, client: ClientState, jti_revoked: bool) -> bool:
    return jti_revoked or not client.active or token_generation(claims) != client.generation


def channel() -> str:
    """The pub/sub channel of this deployment (channels are shared by every Redis database number)."""
    return f"portal:revocation:{settings.REVOCATION_REDIS_URL}"


class RevocationMemory:
    """One process's memory of revocation answers and of the health of its subscription."""

    def __init__(self):
        self._lock = threading.Lock()
        self.jtis: OrderedDict[str, bool] = OrderedDict()
        self.clients: dict[str, ClientState] = {}
        self.epoch = 0  # bumped when the subscription is lost: what was learnt before may have missed a push
        self.jti_pushes = 0
        self.client_pushes = 0
        self.confirmed_at = float("-inf")  # monotonic send time of the last heartbeat that came back
        self.unread: Callable[[], bool] | None = None  # whether pushes wait in the subscription's socket
        self.draining = False  # the listener is applying what it read

    def trusted(self) -> bool:
        """Whether memory may answer: pushes arrived lately, and none is waiting to be applied."""
        if time.monotonic() - self.confirmed_at >= settings.REVOCATION_PUSH_MAX_AGE:
            return False
        unread = self.unread
        # A push already delivered to this process but not yet applied (its thread waits for the GIL)
        # must not be overtaken: one non-blocking syscall, no round trip.
        return not self.draining and (unread is None or not unread())

    def snapshot(self) -> tuple[bool, int, int, int]:
        """Taken before a fetch: whether the subscription was live then, and the push counters."""
        return self.trusted(), self.epoch, self.jti_pushes, self.client_pushes

    def recall(self, claims_list: list[dict]) -> tuple[dict[str, bool], set[str], set[str]]:
        """Answers known in memory (only when trusted), and the jtis and client ids of the others, to ask about."""
        answers, jtis, clients = {}, set(), set()
        trusted = self.trusted()
        with self._lock:
            for claims in claims_list:
                jti, client_id = claims["jti"], claims.get("client_id", "")
                revocable = _revocable(jti)
                if revocable:
                    revoked = self.jtis.get(jti) if trusted else None
                else:
                    revoked = False  # a client caller: only its client's state counts
                client = self.clients.get(client_id) if trusted else None
                if revoked is None or client is None:
                    if revocable:
                        jtis.add(jti)
                    clients.add(client_id)
                else:
                    answers[jti] = is_void(claims, client=client, jti_revoked=revoked)
        return answers, jtis, clients

    def learn(self, seen: tuple[bool, int, int, int], jtis: dict[str, bool], clients: dict[str, ClientState]) -> None:
        """Keep answers fetched from the shared store, unless a push or a lost subscription came in meanwhile.

        Only a fetch that began while the subscription was live is kept: a change made before the
        subscription existed would never be pushed.
        """
        live_before, epoch, jti_pushes, client_pushes = seen
        if not live_before or not self.trusted():
            return
        with self._lock:
            if epoch != self.epoch:
                return
            if jti_pushes == self.jti_pushes:
                for jti, revoked in jtis.items():
                    self.jtis[jti] = revoked
                    self.jtis.move_to_end(jti)
                while len(self.jtis) > MEMO_SIZE:
                    self.jtis.popitem(last=False)
            if client_pushes == self.client_pushes:
                self.clients.update(clients)

    def jti_revoked(self, jti: str) -> None:
        with self._lock:
            self.jtis[jti] = True
            self.jtis.move_to_end(jti)
            self.jti_pushes += 1

    def client_changed(self, client_id: str) -> None:
        with self._lock:
            self.clients.pop(client_id, None)
            self.client_pushes += 1

    def confirm(self, sent_at: float) -> None:
        with self._lock:
            self.confirmed_at = max(self.confirmed_at, sent_at)

    def lose(self) -> None:
        """The subscription is gone: pushes may have been missed, so forget everything."""
        with self._lock:
            self.epoch += 1
            self.confirmed_at = float("-inf")
            self.jtis.clear()
            self.clients.clear()

    def forget(self) -> None:
        with self._lock:
            self.jtis.clear()
            self.clients.clear()
            self.jti_pushes += 1
            self.client_pushes += 1


class Listener(threading.Thread):
    """Applies pushed changes to the process's memory and proves, by heartbeats, that it receives them."""

    def __init__(self, memory: RevocationMemory, url: str):
        super().__init__(name="revocation-listener", daemon=True)
        self.memory = memory
        self.url = url
        self.heartbeat_channel = f"{channel()}:heartbeat:{uuid.uuid4().hex}"
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                self._listen()
            except (redis.RedisError, OSError, ValueError) as exc:
                logger.warning("Revocation pushes interrupted (%s); answering from the shared cache meanwhile", exc)
            finally:
                self.memory.lose()
            self.stopping.wait(0.5)

    def _listen(self):
        subscriber = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=SILENCE_LIMIT)
        publisher = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=2)
        # Subscribe confirmations are returned (and skipped) so that draining never stops at one.
        pubsub = subscriber.pubsub(ignore_subscribe_messages=False)
        try:
            pubsub.subscribe(channel(), self.heartbeat_channel)
            sock = pubsub.connection._sock
            self.memory.unread = _readable(sock)
            next_beat = 0.0
            heard_at = time.monotonic()
            while not self.stopping.is_set():
                now = time.monotonic()
                if now >= next_beat:
                    publisher.publish(self.heartbeat_channel, repr(now))
                    next_beat = now + BEAT
                if now - heard_at > SILENCE_LIMIT:
                    raise redis.ConnectionError("no heartbeat came back")
                if not select.select([sock], [], [], BEAT / 2)[0]:
                    continue
                # Untrusted from before the read until everything read is applied.
                self.memory.draining = True
                try:
                    while (message := pubsub.get_message(timeout=0)) is not None:
                        if self._handle(message):
                            heard_at = time.monotonic()
                finally:
                    self.memory.draining = False
        finally:
            self.memory.unread = None
            self.memory.draining = False
            pubsub.close()
            subscriber.close()
            publisher.close()

    def _handle(self, message: dict) -> bool:
        """Apply one message; True when it was this listener's heartbeat."""
        if message.get("type") != "message":
            return False
        name = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        if name == self.heartbeat_channel:
            self.memory.confirm(float(message["data"]))
            return True
        self._apply(json.loads(message["data"]))
        return False

    def _apply(self, change: dict):
        if change.get("jti"):
            self.memory.jti_revoked(str(change["jti"]))
        if change.get("client") is not None:
            self.memory.client_changed(str(change["client"]))


def _readable(sock) -> Callable[[], bool]:
    def unread() -> bool:
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    return unread


memory = RevocationMemory()
_listener: Listener | None = None
_listener_pid = 0
_start_lock = threading.Lock()


def _ensure_listening() -> None:
    """Start this process's listener (again after a fork)."""
    global _listener, _listener_pid
    if _listener_pid == os.getpid() or not settings.REVOCATION_REDIS_URL:
        return
    with _start_lock:
        if _listener_pid == os.getpid():
            return
        memory.lose()
        _listener = Listener(memory, settings.REVOCATION_REDIS_URL)
        _listener.start()
        _listener_pid = os.getpid()


def stop_listening() -> None:
    """Stop this process's listener (tests); memory is no longer trusted."""
    global _listener, _listener_pid
    with _start_lock:
        if _listener is not None:
            _listener.stopping.set()
            _listener.join(timeout=5)
        _listener, _listener_pid = None, 0
        memory.lose()


def wait_until_trusted(timeout: float = 5.0) -> bool:
    """Start listening and wait until this process's memory may be trusted (tests, readiness)."""
    _ensure_listening()
    deadline = time.monotonic() + timeout
    while not memory.trusted():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# --- Reading ---------------------------------------------------------------------------------


def revoked(claims_list: list[dict]) -> dict[str, bool]:
    """For each token (by its verified claims), whether it is void; by jti.

    From memory while the subscription is healthy; otherwise one cache round trip
    (and the database for what the cache does not hold).
    """
    _ensure_listening()
    answers, jtis, client_ids = memory.recall(claims_list)
    if len(answers) == len({c["jti"] for c in claims_list}):
        return answers
    seen = memory.snapshot()
    fetched_jtis, fetched_clients = _fetch(jtis, client_ids, claims_list)
    memory.learn(seen, fetched_jtis, fetched_clients)
    for claims in claims_list:
        if claims["jti"] not in answers:
            client = fetched_clients[claims.get("client_id", "")]
            jti_revoked = _revocable(claims["jti"]) and fetched_jtis[claims["jti"]]
            answers[claims["jti"]] = is_void(claims, client=client, jti_revoked=jti_revoked)
    return answers


def is_revoked(claims: dict) -> bool:
    return revoked([claims])[claims["jti"]]


def _fetch(jtis: set[str], client_ids: set[str], claims_list: list[dict]) -> tuple[dict[str, bool], dict[str, ClientState]]:
    """Ask the shared cache, then the database for what it does not hold (and remember that in the cache)."""
    from providers.mcg.models import RevokedToken

    jti_keys = {REVOKED_KEY.format(jti): jti for jti in jtis}
    client_keys = {CLIENT_KEY.format(client_id): client_id for client_id in client_ids}
    cached = cache.get_many([*jti_keys, *client_keys])
    clients = {}
    for key, client_id in client_keys.items():
        if key in cached:
            clients[client_id] = ClientState(*cached[key])
        else:
            clients[client_id] = load_client(client_id)
            # add, not set: a change written meanwhile must not be overwritten by what was read before it.
            cache.add(key, (clients[client_id].active, clients[client_id].generation), timeout=SHARED_TTL)
    expiry = {c["jti"]: int(c.get("exp", 0)) for c in claims_list}
    found = {}
    for key, jti in jti_keys.items():
        if key in cached:
            found[jti] = bool(cached[key])
        else:
            found[jti] = RevokedToken.objects.filter(jti=jti).exists()
            ttl = max(1, min(SHARED_TTL, expiry.get(jti, 0) - int(time.time()) + tokens.conf.LEEWAY))
            cache.add(key, found[jti], timeout=ttl)
    return found, clients


# --- Changing ----------------------------------------------------------------------------------


def _publish(change: dict) -> None:
    if not settings.REVOCATION_REDIS_URL:
        return
    client = redis.Redis.from_url(settings.REVOCATION_REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        for attempt in range(3):
            try:
                client.publish(channel(), json.dumps(change))
                return
            except redis.RedisError:
                if attempt == 2:
                    raise
                time.sleep(0.05 * (attempt + 1))
    finally:
        client.close()


def token_revoked(jti: str, *, expires_at: int) -> None:
    """A token was revoked (its row saved): every process treats it as void from now on."""

    def push():
        ttl = max(1, expires_at - int(time.time()) + tokens.conf.LEEWAY)
        cache.set(REVOKED_KEY.format(jti), True, timeout=ttl)
        memory.jti_revoked(jti)
        _publish({"jti": jti})

    memory.jti_revoked(jti)
    transaction.on_commit(push)


def client_changed(client_id: str) -> None:
    """A client's state (active, generation) changed in the database: every process reads it again."""

    def push():
        state = load_client(client_id)
        cache.set(CLIENT_KEY.format(client_id), (state.active, state.generation), timeout=SHARED_TTL)
        memory.client_changed(client_id)
        _publish({"client": client_id})

    # At once for this process (and any reader of the cache) so that the change shows inside the
    # transaction; the committed state is written and pushed to everyone once it commits.
    cache.delete(CLIENT_KEY.format(client_id))
    memory.client_changed(client_id)
    transaction.on_commit(push)
