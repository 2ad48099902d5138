"""Repeated failed /autorizacao attempts are throttled per usuario and per address, and the lockout ends."""

import pytest
from django.urls import reverse

from providers.mobilesaude.throttling import SlidingWindow, address_identity

from .conftest import SENHA, USUARIO
from .seed_rules import check_failure

THROTTLED = "Muitas tentativas sem sucesso. Tente novamente mais tarde."


@pytest.fixture
def limits(settings):
    settings.MOBILESAUDE_THROTTLE_WINDOW = 60
    settings.MOBILESAUDE_THROTTLE_FAILURES_PER_USUARIO = 3
    settings.MOBILESAUDE_THROTTLE_FAILURES_PER_ADDRESS = 5
    return settings


@pytest.fixture
def sign_in(client, integration_client):
    def sign_in(usuario=USUARIO, senha="wrong", address="203.0.113.7"):
        return client.post(
            reverse("mobilesaude:autorizacao"),
            {"usuario": usuario, "senha": senha},
            content_type="application/json",
            REMOTE_ADDR=address,
        )

    return sign_in


def test_a_usuario_is_locked_after_repeated_failures_from_anywhere(limits, sign_in):
    for n in range(3):
        assert sign_in(address=f"198.51.100.{n}").status_code == 401

    response = sign_in(address="198.51.100.99")

    assert response.status_code == 429
    assert response.json() == {"mensagem": THROTTLED}
    check_failure(response.json())
    assert 1 <= int(response["Retry-After"]) <= 2 * 60


def test_the_lockout_applies_even_to_the_right_password(limits, sign_in):
    for _ in range(3):
        sign_in()
    assert sign_in(senha=SENHA).status_code == 429


def test_unknown_usuarios_are_throttled_alike(limits, sign_in):
    for n in range(3):
        assert sign_in(usuario="ghost", address=f"198.51.100.{n}").status_code == 401
    assert sign_in(usuario="ghost", address="198.51.100.99").status_code == 429


def test_an_address_is_locked_after_failures_on_many_usuarios(limits, sign_in):
    for n in range(5):
        assert sign_in(usuario=f"guess-{n}").status_code == 401

    response = sign_in(usuario="guess-new")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert sign_in(usuario="guess-new", address="198.51.100.1").status_code == 401  # another address is not affected


def test_a_success_resets_the_usuario_counter(limits, sign_in):
    for _ in range(2):
        assert sign_in().status_code == 401
    assert sign_in(senha=SENHA).status_code == 200
    for _ in range(2):
        assert sign_in(address="198.51.100.1").status_code == 401
    assert sign_in(senha=SENHA, address="198.51.100.2").status_code == 200


def test_an_attacker_cannot_lock_the_client_out_of_the_address_it_signs_in_from(limits, sign_in):
    client_address = "192.0.2.10"
    assert sign_in(senha=SENHA, address=client_address).status_code == 200
    for n in range(10):
        sign_in(address=f"198.51.100.{n}")
    assert sign_in(address="198.51.100.200").status_code == 429  # the usuario is locked elsewhere...

    assert sign_in(senha=SENHA, address=client_address).status_code == 200  # ...but not where the client works


def test_the_lockout_ends(limits, sign_in, monkeypatch):
    import time

    for _ in range(3):
        sign_in()
    locked = sign_in()
    assert locked.status_code == 429
    retry_after = int(locked["Retry-After"])

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + retry_after + 1)
    assert sign_in(senha=SENHA).status_code == 200


def test_blocked_attempts_do_not_extend_the_lockout(limits, sign_in, monkeypatch):

    for _ in range(3):
        sign_in()
    first = int(sign_in()["Retry-After"])
    for _ in range(20):
        assert sign_in().status_code == 429
    assert int(sign_in()["Retry-After"]) <= first


# --- The sliding window itself ------------------------------------------------------------


def test_the_window_counts_and_forgets():
    window = SlidingWindow("test", limit=2, window=100)
    start = 1_000_000.0  # the start of a bucket
    assert window.retry_after("k", start) == 0
    window.hit("k", start)
    window.hit("k", start + 10)
    # Both failures are in the current bucket: wait for the next bucket and for them to fade below the limit.
    assert window.retry_after("k", start + 10) == 90
    assert window.retry_after("k", start + 99) == 1
    # In the next bucket the two count for (1 - elapsed): 2 * (1 - 0.5) = 1 < 2.
    assert window.retry_after("k", start + 150) == 0
    window.hit("k", start + 150)
    # Now 2 * (1 - 0.5) + 1 = 2: blocked until the old bucket's weight drops under 1/2.
    assert window.retry_after("k", start + 150) == 1
    assert window.retry_after("k", start + 151) == 0
    assert window.retry_after("k", start + 400) == 0


def test_the_window_resets_and_keeps_identities_apart():
    window = SlidingWindow("test", limit=1, window=100)
    window.hit("a", 500.0)
    assert window.retry_after("a", 500.0) > 0
    assert window.retry_after("b", 500.0) == 0
    window.reset("a", 500.0)
    assert window.retry_after("a", 500.0) == 0


@pytest.mark.parametrize(
    "address, identity",
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_addresses_are_grouped_by_ipv6_network(address, identity):
    assert address_identity(address) == identity
