"""Malformed requests to both endpoints get a clear Portuguese {"mensagem"} and the right 4xx, never a 500."""

import json

import pytest
from django.urls import reverse

from .conftest import BIRTH_DATE, CPF, SENHA, USUARIO
from .seed_rules import check_failure

VALID = {"autorizacao": {"usuario": USUARIO, "senha": SENHA}, "identificacao": {"cpf": CPF, "dataNascimento": BIRTH_DATE}}
ENDPOINTS = ["autorizacao", "identificacao"]


@pytest.fixture
def send(post_json, client_header, pharmacist):
    """POST to an endpoint with a valid client header (so the body is what gets judged)."""

    def send(name, body, **kwargs):
        response = post_json(name, body, **kwargs, **client_header)
        assert response["Content-Type"] == "application/json"
        check_failure(response.json()) if response.status_code >= 400 else None
        return response

    return send


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_valid_body_is_accepted(send, name):
    assert send(name, VALID[name]).status_code == 200


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [b"{", b"{'usuario': 'x'}", b"\xff\xfe{}", b'{"a": NaN}', b"[" * 5000 + b"]" * 5000],
    ids=["truncated", "single-quotes", "not-utf8", "nan", "deeply-nested"],
)
def test_bad_json_is_a_bad_request(send, name, body):
    response = send(name, body)
    assert response.status_code == 400
    assert response.json()["mensagem"] == "O corpo da requisição não é um JSON válido (UTF-8)."


@pytest.mark.parametrize("name", ENDPOINTS)
def test_an_empty_json_body_is_a_bad_request(client, client_header, name):
    # Django's test client drops the Content-Type of an empty body; put it back as a real client sends it.
    response = client.post(
        reverse(f"mobilesaude:{name}"),
        b"",
        content_type="application/json",
        CONTENT_TYPE="application/json",
        headers=client_header,
    )
    assert response.status_code == 400
    assert response.json()["mensagem"] == "O corpo da requisição não é um JSON válido (UTF-8)."


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize(
    "body", [[], "texto", 42, None, [VALID["autorizacao"]]], ids=["list", "string", "number", "null", "wrapped"]
)
def test_a_body_that_is_not_an_object_is_a_bad_request(send, name, body):
    response = send(name, json.dumps(body))
    assert response.status_code == 400
    assert response.json()["mensagem"] == "O corpo da requisição deve ser um objeto JSON."


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
)
def test_a_body_that_is_not_json_is_unsupported(send, name, content_type):
    response = send(name, json.dumps(VALID[name]), content_type=content_type)
    assert response.status_code == 415
    assert "application/json" in response.json()["mensagem"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_json_with_a_charset_is_accepted(send, name):
    assert send(name, VALID[name], content_type="application/json; charset=utf-8").status_code == 200


@pytest.mark.parametrize("name", ENDPOINTS)
def test_an_extra_field_is_refused(send, name):
    response = send(name, {**VALID[name], "extra": "x"})
    assert response.status_code == 400
    assert response.json()["mensagem"] == "Campo(s) não permitido(s): 'extra'."


@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_missing_field_is_named(send, name):
    for field in VALID[name]:
        body = {k: v for k, v in VALID[name].items() if k != field}
        response = send(name, body)
        assert response.status_code == 400
        assert response.json()["mensagem"] == f"Campo(s) obrigatório(s) ausente(s): {field}."


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("value", [None, 123, 5.5, True, [], {}], ids=["null", "int", "float", "bool", "list", "object"])
def test_a_field_of_the_wrong_type_is_named(send, name, value):
    field = next(iter(VALID[name]))
    response = send(name, {**VALID[name], field: value})
    assert response.status_code == 400
    assert response.json()["mensagem"] == f"O campo '{field}' deve ser um texto."


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("value", ["", "   ", "a\x00b", "\ud800"], ids=["empty", "blank", "nul", "lone-surrogate"])
def test_blank_or_unstorable_text_is_refused(send, name, value):
    field = next(iter(VALID[name]))
    body = json.dumps({**VALID[name], field: value})  # json.dumps escapes the surrogate as \ud800
    response = send(name, body)
    assert response.status_code == 400
    assert f"'{field}'" in response.json()["mensagem"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_an_overlong_field_is_refused(send, name):
    field = next(iter(VALID[name]))
    response = send(name, {**VALID[name], field: "x" * 1000})
    assert response.status_code == 400
    assert "no máximo" in response.json()["mensagem"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_huge_body_is_refused_before_it_is_parsed(send, name):
    body = json.dumps({**VALID[name], "padding": "x" * 20_000})
    response = send(name, body)
    assert response.status_code == 413
    assert response.json()["mensagem"] == "Corpo da requisição grande demais (máximo de 16384 bytes)."


def test_the_body_limit_is_a_setting(send, settings):
    settings.MOBILESAUDE_MAX_BODY_BYTES = 20
    assert send("autorizacao", VALID["autorizacao"]).status_code == 413


def test_a_huge_body_of_undeclared_length_is_cut_at_the_limit(db):
    """A body sent without Content-Length (chunked) is read up to the limit only, then refused."""
    from io import BytesIO

    from django.test.client import RequestFactory

    from providers.mobilesaude.api import AutorizacaoView

    stream = BytesIO(b'{"usuario": "' + b"x" * 1_000_000 + b'"}')
    request = RequestFactory().generic("POST", reverse("mobilesaude:autorizacao"), CONTENT_TYPE="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request._stream = stream  # what the view reads the body from

    response = AutorizacaoView.as_view()(request)

    assert response.status_code == 413
    assert stream.tell() <= 16 * 1024 + 1


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head", "options"])
def test_other_methods_are_not_allowed(client, name, method):
    response = getattr(client, method)(reverse(f"mobilesaude:{name}"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    if method != "head":
        assert response.json() == {"mensagem": "Método não permitido: use POST."}


def test_no_csrf_token_is_needed(integration_client):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        reverse("mobilesaude:autorizacao"), {"usuario": USUARIO, "senha": SENHA}, content_type="application/json"
    )
    assert response.status_code == 200
