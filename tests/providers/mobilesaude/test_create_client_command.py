"""manage.py create_mobilesaude_client prints one JSON object with the credentials to hand over."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from providers.mobilesaude.models import IntegrationClient


def run(monkeypatch, *args, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("create_mobilesaude_client", *args, stdout=out)
    return out.getvalue()


def test_a_password_from_stdin_is_stored_hashed_and_printed_once(db, monkeypatch, client):
    output = run(monkeypatch, "--usuario", "operadora", "--password-stdin", stdin="uma-senha-bem-longa\n")

    [line] = output.strip().splitlines()
    handed_over = json.loads(line)
    assert handed_over == {
        "usuario": "operadora",
        "senha": "uma-senha-bem-longa",
        "header": "Authorization",
        "endpoints": {
            "autorizacao": "/integrations/mobilesaude/autorizacao",
            "recuperarSenhaIdentificacao": "/integrations/mobilesaude/recuperarSenhaIdentificacao",
            "openapi": "/integrations/mobilesaude/openapi.json",
        },
    }
    stored = IntegrationClient.objects.get(usuario="operadora")
    assert stored.is_active
    assert "uma-senha-bem-longa" not in stored.password
    # The credentials work at the endpoint they name.
    response = client.post(
        handed_over["endpoints"]["autorizacao"],
        {"usuario": handed_over["usuario"], "senha": handed_over["senha"]},
        content_type="application/json",
    )
    assert response.status_code == 200


def test_a_strong_password_is_generated_when_none_is_given(db, monkeypatch):
    first = json.loads(run(monkeypatch, "--usuario", "a"))
    second = json.loads(run(monkeypatch, "--usuario", "b"))

    assert len(first["senha"]) >= 40
    assert first["senha"] != second["senha"]
    assert IntegrationClient.objects.get(usuario="a").check_password(first["senha"])


def test_a_short_password_is_refused(db, monkeypatch):
    with pytest.raises(CommandError, match="at least 12"):
        run(monkeypatch, "--usuario", "x", "--password-stdin", stdin="123456\n")
    assert not IntegrationClient.objects.exists()


def test_an_existing_usuario_is_refused(db, monkeypatch):
    run(monkeypatch, "--usuario", "operadora")
    with pytest.raises(CommandError, match="already exists"):
        run(monkeypatch, "--usuario", "operadora")
    assert IntegrationClient.objects.count() == 1


def test_a_blank_usuario_is_refused(db, monkeypatch):
    with pytest.raises(CommandError, match="usuario"):
        run(monkeypatch, "--usuario", "  ")
