"""Failed identifications are throttled per client and per CPF; counters are atomic; addresses come through the proxies."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.test import RequestFactory

from providers.addresses import client_address
from providers.mobilesaude import services

from .conftest import BIRTH_DATE, CPF, SENHA, USUARIO
from .seed_rules import check_failure

THROTTLED = "Muitas tentativas sem sucesso. Tente novamente mais tarde."


@pytest.fixture
def limits(settings):
    settings.MOBILESAUDE_THROTTLE_WINDOW = 60
    settings.MOBILESAUDE_THROTTLE_FAILURES_PER_USUARIO = 5
    settings.MOBILESAUDE_THROTTLE_FAILURES_PER_ADDRESS = 5
    settings.MOBILESAUDE_THROTTLE_FAILURES_PER_CLIENT = 6
    settings.MOBILESAUDE_THROTTLE_FAILURES_PER_CPF = 3
    return settings


@pytest.fixture
def portal(live_server, transactional_db, limits):
    return live_server.url


def _authorize(portal, usuario=USUARIO, senha=SENHA, **headers):
    return requests.post(
        f"{portal}/integrations/mobilesaude/autorizacao", json={"usuario": usuario, "senha": senha}, headers=headers, timeout=10
    )


def _header(portal, usuario=USUARIO):
    auth = _authorize(portal, usuario).json()["auth"][0]
    return {auth["chave"]: auth["token"]}


def _identify(portal, header, cpf=CPF, birth=BIRTH_DATE):
    return requests.post(
        f"{portal}/integrations/mobilesaude/recuperarSenhaIdentificacao",
        json={"cpf": cpf, "dataNascimento": birth},
        headers=header,
        timeout=10,
    )


def test_guessing_a_cpfs_date_of_birth_is_throttled(portal, integration_client, pharmacist):
    header = _header(portal)
    for year in (1990, 1991, 1992):
        assert _identify(portal, header, birth=f"{year}-01-01").status_code == 404
    locked = _identify(portal, header)  # even the right date, now
    assert locked.status_code == 429
    assert locked.json() == {"mensagem": THROTTLED}
    check_failure(locked.json())
    assert 1 <= int(locked.headers["Retry-After"]) <= 120
    # The CPF is throttled for every client, not only this one.
    services.create_client(usuario="second-app", password=SENHA)
    assert _identify(portal, _header(portal, "second-app")).status_code == 429


def test_a_client_trying_many_cpfs_is_throttled(portal, integration_client, pharmacist):
    header = _header(portal)
    for cpf in ("11144477735", "52998224725", "39053344705", "15350946056", "12345678909", "98765432100"):
        assert _identify(portal, header, cpf=cpf).status_code == 404
    assert _identify(portal, header).status_code == 429
    # Another client is not affected.
    services.create_client(usuario="second-app", password=SENHA)
    assert _identify(portal, _header(portal, "second-app")).status_code == 200


def test_successful_identifications_are_not_counted(portal, integration_client, pharmacist):
    header = _header(portal)
    for _ in range(10):
        assert _identify(portal, header).status_code == 200


def test_concurrent_wrong_passwords_cannot_slip_past_the_limit(portal, integration_client, real_password_hashing):
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _i: _authorize(portal, senha="wrong").status_code, range(24)))
    assert answers.count(401) == 5
    assert answers.count(429) == 19


def test_behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own(portal, integration_client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        assert _authorize(portal, f"guess-{n}", "x", **{"X-Forwarded-For": "203.0.113.7"}).status_code == 401
    assert _authorize(portal, "guess-new", "x", **{"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # Another caller behind the same proxy is not locked out (without the setting, both would be 127.0.0.1).
    assert _authorize(portal, "guess-new", "x", **{"X-Forwarded-For": "198.51.100.4"}).status_code == 401
    # What the caller itself wrote to the left of the proxy's entry is not believed.
    spoofed = _authorize(portal, "guess-new", "x", **{"X-Forwarded-For": "192.0.2.99, 203.0.113.7"})
    assert spoofed.status_code == 429


def test_without_trusted_proxies_a_forwarded_header_changes_nothing(portal, integration_client):
    for n in range(5):
        assert _authorize(portal, f"guess-{n}", "x", **{"X-Forwarded-For": f"198.51.100.{n}"}).status_code == 401
    assert _authorize(portal, "guess-new", "x", **{"X-Forwarded-For": "198.51.100.200"}).status_code == 429


@pytest.mark.parametrize(
    "proxies,forwarded,expected",
    [
        (0, "203.0.113.7", "10.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.99, 203.0.113.7", "203.0.113.7"),
        (2, "203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "10.0.0.2", "10.0.0.1"),  # a shorter chain did not come through both proxies
        (1, "", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_the_client_address_is_read_through_the_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    assert client_address(RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", **extra)) == expected
