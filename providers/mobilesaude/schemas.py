"""The Mobile Saúde wire format: request validation, answers, and the OpenAPI 3 description of both.

Field names and messages are the seeds' (Portuguese); the seeds are
``mobilesaude-autorizacao.pt.txt`` and ``mobilesaude-identificacao.pt.txt``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

import tokens
from providers import inbound
from providers.jsonbody import is_storable_text

from .conf import conf
from .services import Identification

NOT_FOUND = "Beneficiário não encontrado"
WRONG_CREDENTIALS = "Usuário/senha não encontrados"
THROTTLED = "Muitas tentativas sem sucesso. Tente novamente mais tarde."
MISSING_TOKEN = "Token de autorização ausente: envie o cabeçalho recebido em /autorizacao."
INVALID_TOKEN = "Token de autorização inválido ou expirado: obtenha um novo em /autorizacao."
METHOD_NOT_ALLOWED = "Método não permitido: use POST."
UNSUPPORTED_MEDIA_TYPE = "Envie o corpo em JSON, com o cabeçalho Content-Type: application/json."
BODY_TOO_LARGE = "Corpo da requisição grande demais (máximo de {limit} bytes)."
INVALID_JSON = "O corpo da requisição não é um JSON válido (UTF-8)."
NOT_AN_OBJECT = "O corpo da requisição deve ser um objeto JSON."
INVALID_DATE = "O campo 'dataNascimento' deve ser uma data válida no formato AAAA-MM-DD."


class RequestError(inbound.InboundError):
    """The request is refused; ``message`` is the Portuguese ``mensagem``, ``status`` the HTTP status."""


# Not blank and without NUL characters (which no database column can hold).
_NOT_BLANK_NO_NUL = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


@dataclass(frozen=True)
class StringField:
    name: str
    max_length: int
    description: str
    format: str | None = None
    hint: str = ""

    def openapi(self) -> dict:
        schema = {
            "type": "string",
            "minLength": 1,
            "maxLength": self.max_length,
            "pattern": _NOT_BLANK_NO_NUL,
            "description": self.description,
        }
        if self.format:
            schema["format"] = self.format
        return schema

    def clean(self, value) -> str:
        if not isinstance(value, str):
            raise RequestError(f"O campo '{self.name}' deve ser um texto.")
        if not value.strip():
            raise RequestError(f"O campo '{self.name}' é obrigatório e não pode estar em branco.")
        if len(value) > self.max_length:
            raise RequestError(f"O campo '{self.name}' tem no máximo {self.max_length} caracteres{self.hint}.")
        if not is_storable_text(value):
            raise RequestError(f"O campo '{self.name}' contém caracteres inválidos.")
        return value


@dataclass(frozen=True)
class RequestSchema:
    """A JSON object with exactly these (mandatory) string fields."""

    name: str
    fields: tuple[StringField, ...]

    def openapi(self) -> dict:
        return {
            "type": "object",
            "required": [f.name for f in self.fields],
            "additionalProperties": False,
            "properties": {f.name: f.openapi() for f in self.fields},
        }

    def clean(self, data) -> dict:
        if not isinstance(data, dict):
            raise RequestError(NOT_AN_OBJECT)
        extra = sorted(set(data) - {f.name for f in self.fields})
        if extra:
            raise RequestError("Campo(s) não permitido(s): " + ", ".join(repr(name)[:40] for name in extra[:5]) + ".")
        missing = [f.name for f in self.fields if f.name not in data]
        if missing:
            raise RequestError("Campo(s) obrigatório(s) ausente(s): " + ", ".join(missing) + ".")
        return {f.name: f.clean(data[f.name]) for f in self.fields}


AUTORIZACAO_REQUEST = RequestSchema(
    "AutorizacaoRequest",
    (
        StringField("usuario", 150, "Usuário do cliente de integração."),
        StringField("senha", 256, "Senha do cliente de integração."),
    ),
)
IDENTIFICACAO_REQUEST = RequestSchema(
    "IdentificacaoRequest",
    (
        StringField("cpf", 32, "CPF do beneficiário, com ou sem pontuação (dígitos verificadores conferidos)."),
        StringField("dataNascimento", 10, "Data de nascimento, AAAA-MM-DD.", format="date", hint=" (formato AAAA-MM-DD)"),
    ),
)


def is_json_content_type(content_type: str) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def parse_json_request(request, schema: RequestSchema) -> dict:
    """The request's JSON body checked against the schema; else an InboundError (415, 413 or 400)."""
    return schema.clean(inbound.read_json(request, limit=conf.MAX_BODY_BYTES, accepts=is_json_content_type, storable=False))


# --- Answers -------------------------------------------------------------------------


def auth_entry(token: tokens.IssuedToken, value: str, *, with_expiry: bool) -> dict:
    entry = {"chave": conf.AUTH_HEADER, "token": value}
    if with_expiry:
        entry["expiracao"] = token.expires_at * 1000
    return entry


def autorizacao_answer(token: tokens.IssuedToken, header_value: str) -> dict:
    return {"auth": [auth_entry(token, header_value, with_expiry=False)]}


def identificacao_answer(identification: Identification, header_value: str) -> dict:
    user = identification.user
    return {
        "chaveUnica": str(user.public_id),
        "integracao": {
            "nome": user.get_full_name(),
            "farmacias": [
                {"id": str(m.pharmacy.public_id), "nome": m.pharmacy.name, "funcao": m.function}
                for m in identification.memberships
            ],
        },
        "contatos": [{"id": c.id, "contato": c.value, "tipo": c.kind, "ofuscado": c.masked} for c in identification.contacts],
        "seguranca": {"auth": [auth_entry(identification.token, header_value, with_expiry=True)]},
    }


def message(text: str) -> dict:
    return {"mensagem": text}


# --- OpenAPI ---------------------------------------------------------------------------

_ASCII_NAME = r"^[A-Za-z0-9_-]+$"
_NON_BLANK = {"type": "string", "minLength": 1, "pattern": r"\S"}


def _auth_item(with_expiry: bool) -> dict:
    item = {
        "type": "object",
        "required": ["chave", "token"],
        "properties": {
            "chave": {"type": "string", "minLength": 1, "pattern": _ASCII_NAME, "description": "Nome do cabeçalho."},
            "token": {**_NON_BLANK, "description": "Valor do cabeçalho, com o prefixo (ex.: Bearer <jwt>)."},
        },
    }
    if with_expiry:
        item["properties"]["expiracao"] = {"type": "integer", "description": "Expiração (timestamp em milissegundos)."}
    return item


def _message_response(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Mensagem"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _common_errors() -> dict:
    return {
        "400": _message_response("Corpo inválido (JSON, campos, tipos)."),
        "405": _message_response(
            "Método não permitido.", {"Allow": {"schema": {"type": "string"}, "description": "Métodos aceitos."}}
        ),
        "413": _message_response("Corpo grande demais."),
        "415": _message_response("Content-Type não é application/json."),
    }


def _request_body(schema_name: str, example: dict) -> dict:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}, "example": example}},
    }


def openapi_document() -> dict:
    """The OpenAPI 3.0 description of the Mobile Saúde endpoints."""
    header = conf.AUTH_HEADER
    scheme = conf.AUTH_SCHEME
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Pharmacy portal — Mobile Saúde integration",
            "version": "1.0.0",
            "description": (
                "Autorização do cliente de integração e identificação do beneficiário (usuário do portal). "
                f"Envie o token de /autorizacao no cabeçalho {header}, com o prefixo {scheme!r}."
            ),
        },
        "paths": {
            reverse("mobilesaude:autorizacao"): {
                "post": {
                    "operationId": "autorizacao",
                    "summary": "Autorização do cliente de integração",
                    "requestBody": _request_body("AutorizacaoRequest", {"usuario": "62591304220", "senha": "123456"}),
                    "responses": {
                        "200": {
                            "description": "Token do cliente de integração.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AutorizacaoResponse"}}},
                        },
                        "401": _message_response("Usuário/senha não encontrados."),
                        "429": _message_response(
                            "Tentativas demais sem sucesso.",
                            {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Segundos."}},
                        ),
                        **_common_errors(),
                    },
                }
            },
            reverse("mobilesaude:identificacao"): {
                "post": {
                    "operationId": "recuperarSenhaIdentificacao",
                    "summary": "Identificação do beneficiário",
                    "security": [{"clientToken": []}],
                    "requestBody": _request_body("IdentificacaoRequest", {"cpf": "54430070768", "dataNascimento": "1993-08-05"}),
                    "responses": {
                        "200": {
                            "description": "Beneficiário identificado.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IdentificacaoResponse"}}},
                        },
                        "401": _message_response("Token ausente, inválido ou expirado."),
                        "404": _message_response("Beneficiário não encontrado."),
                        "429": _message_response(
                            "Identificações sem sucesso demais para este cliente ou este CPF.",
                            {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Segundos."}},
                        ),
                        **_common_errors(),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "clientToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": header,
                    "description": f"O token de /autorizacao, com o prefixo: '{scheme} <jwt>'.",
                }
            },
            "schemas": {
                "AutorizacaoRequest": AUTORIZACAO_REQUEST.openapi(),
                "IdentificacaoRequest": IDENTIFICACAO_REQUEST.openapi(),
                "Mensagem": {
                    "type": "object",
                    "required": ["mensagem"],
                    "properties": {"mensagem": {**_NON_BLANK, "description": "Mensagem para o cliente."}},
                },
                "AutorizacaoResponse": {
                    "type": "object",
                    "required": ["auth"],
                    "properties": {"auth": {"type": "array", "minItems": 1, "items": _auth_item(with_expiry=False)}},
                },
                "IdentificacaoResponse": {
                    "type": "object",
                    "required": ["chaveUnica", "contatos"],
                    "properties": {
                        "chaveUnica": {**_NON_BLANK, "description": "Identificador estável do beneficiário."},
                        "integracao": {"type": "object", "nullable": True, "description": "Dados para o aplicativo."},
                        "contatos": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["id", "contato", "tipo"],
                                "properties": {
                                    "id": {"type": "string", "minLength": 1, "pattern": _ASCII_NAME},
                                    "contato": _NON_BLANK,
                                    "tipo": {"type": "integer", "enum": [1, 2], "description": "1 = Email, 2 = Celular."},
                                    "ofuscado": {"type": "string", "nullable": True},
                                },
                            },
                        },
                        "seguranca": {
                            "type": "object",
                            "nullable": True,
                            "required": ["auth"],
                            "properties": {"auth": {"type": "array", "minItems": 1, "items": _auth_item(with_expiry=True)}},
                        },
                    },
                },
            },
        },
    }
