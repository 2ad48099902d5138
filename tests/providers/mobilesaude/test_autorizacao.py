"""POST /integrations/mobilesaude/autorizacao: credentials → a short-lived client token."""

import statistics
import time

import pytest

import tokens
from providers.mobilesaude.models import IntegrationClient

from .conftest import SENHA, USUARIO
from .seed_rules import check_autorizacao_success, check_failure


def test_valid_credentials_get_a_bearer_token_for_the_client(integration_client, post_json):
    before = int(time.time())
    response = post_json("autorizacao", {"usuario": USUARIO, "senha": SENHA})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    answer = response.json()
    check_autorizacao_success(answer)
    [auth] = answer["auth"]
    assert auth["chave"] == "Authorization"
    scheme, _, jwt = auth["token"].partition(" ")
    assert scheme == "Bearer"
    claims = tokens.verify(jwt, audience=tokens.conf.AUDIENCE)
    assert claims["sub"] == f"mobilesaude:{USUARIO}"
    assert claims["client_id"] == f"mobilesaude:{USUARIO}"
    assert claims["scope"] == "mobilesaude"
    assert before + 900 <= claims["exp"] <= int(time.time()) + 900
    integration_client.refresh_from_db()
    assert integration_client.last_authorized_at is not None


def test_token_lifetime_and_header_come_from_settings(integration_client, post_json, settings):
    settings.MOBILESAUDE_TOKEN_LIFETIME = 120
    settings.MOBILESAUDE_AUTH_HEADER = "Authorization-Custom"
    settings.MOBILESAUDE_AUTH_SCHEME = "JWT"

    [auth] = post_json("autorizacao", {"usuario": USUARIO, "senha": SENHA}).json()["auth"]

    assert auth["chave"] == "Authorization-Custom"
    assert auth["token"].startswith("JWT ")
    claims = tokens.verify(auth["token"].removeprefix("JWT "), audience=tokens.conf.AUDIENCE)
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize(
    "usuario, senha",
    [(USUARIO, "wrong password"), ("nobody", SENHA), (USUARIO.upper(), SENHA), (USUARIO, SENHA + " ")],
    ids=["wrong-senha", "unknown-usuario", "usuario-is-case-sensitive", "senha-not-trimmed"],
)
def test_wrong_credentials_get_the_seed_message(integration_client, post_json, usuario, senha):
    response = post_json("autorizacao", {"usuario": usuario, "senha": senha})

    assert response.status_code == 401
    assert response.json() == {"mensagem": "Usuário/senha não encontrados"}
    check_failure(response.json())


def test_inactive_client_gets_the_same_answer_as_wrong_credentials(integration_client, post_json):
    IntegrationClient.objects.filter(pk=integration_client.pk).update(is_active=False)

    response = post_json("autorizacao", {"usuario": USUARIO, "senha": SENHA})

    assert response.status_code == 401
    assert response.json() == {"mensagem": "Usuário/senha não encontrados"}


def test_password_is_stored_hashed_with_the_default_hasher(real_password_hashing, integration_client):
    stored = IntegrationClient.objects.get(usuario=USUARIO).password
    assert SENHA not in stored
    assert stored.startswith("pbkdf2_sha256$")


def test_unknown_and_known_usuario_take_about_the_same_time(real_password_hashing, integration_client, post_json, settings):
    # Enough room for the measurement itself; throttling is tested elsewhere.
    settings.MOBILESAUDE_THROTTLE_FAILURES_PER_USUARIO = 1000
    settings.MOBILESAUDE_THROTTLE_FAILURES_PER_ADDRESS = 1000

    def timed(usuario):
        start = time.perf_counter()
        response = post_json("autorizacao", {"usuario": usuario, "senha": "not the password"})
        assert response.status_code == 401
        return time.perf_counter() - start

    known, unknown = [], []
    for _ in range(5):
        known.append(timed(USUARIO))
        unknown.append(timed("no-such-client"))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    # Both run one full password hash (tens of ms); without the dummy hash the unknown
    # usuario would answer in well under a millisecond of hashing.
    assert unknown_median > 0.5 * known_median, (known_median, unknown_median)
    assert known_median > 0.5 * unknown_median, (known_median, unknown_median)
