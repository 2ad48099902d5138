"""The seeds' filling criteria (M = mandatory, never null or blank; OP = optional), as checks on real answers."""

from __future__ import annotations

import re

ASCII_NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # "ASCII (não permite especiais)"


def _mandatory(obj: dict, name: str, kind: type | tuple[type, ...]):
    assert name in obj, f"mandatory field {name!r} missing"
    value = obj[name]
    assert value is not None, f"mandatory field {name!r} is null"
    assert isinstance(value, kind), f"{name!r} should be {kind}, got {type(value)}"
    if isinstance(value, str):
        assert value.strip(), f"mandatory field {name!r} is blank"
    if isinstance(value, list):
        assert value, f"mandatory list {name!r} is empty"
    return value


def _auth_list(auth, *, expiry: str):
    assert isinstance(auth, list) and auth, "auth must hold at least one entry"
    for entry in auth:
        chave = _mandatory(entry, "chave", str)
        assert ASCII_NAME.match(chave), f"chave {chave!r} is not plain ASCII"
        _mandatory(entry, "token", str)
        if expiry == "optional" and entry.get("expiracao") is not None:
            assert isinstance(entry["expiracao"], int) and not isinstance(entry["expiracao"], bool)


def check_autorizacao_success(answer: dict) -> None:
    _auth_list(_mandatory(answer, "auth", list), expiry="absent")


def check_failure(answer: dict) -> None:
    _mandatory(answer, "mensagem", str)


def check_identificacao_success(answer: dict) -> None:
    _mandatory(answer, "chaveUnica", str)
    if answer.get("integracao") is not None:
        assert isinstance(answer["integracao"], dict), "integracao must be a JSON object"
    for contato in _mandatory(answer, "contatos", list):
        contact_id = _mandatory(contato, "id", str)
        assert ASCII_NAME.match(contact_id), f"contato id {contact_id!r} is not plain ASCII"
        _mandatory(contato, "contato", str)
        assert _mandatory(contato, "tipo", int) in (1, 2)
        assert contato.get("ofuscado") is None or isinstance(contato["ofuscado"], str)
    seguranca = answer.get("seguranca")
    if seguranca is not None:
        _auth_list(_mandatory(seguranca, "auth", list), expiry="optional")
