"""The wire format of the service-provider API: /Services bodies in and out, and the OpenAPI 3 description.

The seed writes field names in several languages (``titulo``/``Tittle``/``Titre``,
``canal``/``Cannel``); the portal speaks English (``title``, ``message``,
``channel``, ``link``, ``picture``) and accepts the seed's spellings as aliases,
in any letter case.
"""

from __future__ import annotations

import base64
import binascii
import io
import unicodedata
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from PIL import Image, UnidentifiedImageError

from .conf import conf
from .models import Channel, InboxKind

INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
TITLE_MAX = 32
MESSAGE_MAX = 166
LINK_MAX = 2000
QR_DATA_MAX = 1000
IDEMPOTENCY_KEY_MAX = 255
# No control characters (line breaks included), no leading or trailing space: titles become email subjects.
_NO_CONTROL = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
ONE_LINE_TEXT = rf"^[^\s{_NO_CONTROL}]([^{_NO_CONTROL}]*[^\s{_NO_CONTROL}])?$"
# Animated pictures: at most this many frames are decoded and re-encoded.
PICTURE_MAX_FRAMES = 100
CHANNELS = {c.value.lower(): c.value for c in Channel}
PICTURE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
ALIASES = {
    "titulo": "title",
    "tittle": "title",
    "titre": "title",
    "mensaje": "message",
    "canal": "channel",
    "cannel": "channel",
    "lien": "link",
    "enlace": "link",
    "imagen": "picture",
    "image": "picture",
}
MESSAGE_FIELDS = {
    InboxKind.NOTIFICATION: ("title", "message", "channel", "link"),
    InboxKind.ADVERTISEMENT: ("title", "message", "channel", "link", "picture"),
    InboxKind.COUPON: ("data", "title", "message", "channel", "link"),
}
PARAMETER_KINDS = {"notification": InboxKind.NOTIFICATION, "advertisement": InboxKind.ADVERTISEMENT, "qr_code": InboxKind.COUPON}


class InvalidBody(Exception):
    """The body breaks the wire format; ``field_errors`` maps dotted field paths to messages."""

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


@dataclass
class MessageSpec:
    kind: str
    title: str = ""
    message: str = ""
    channel: str = ""
    link: str = ""
    picture: bytes | None = None
    picture_type: str = ""
    qr_payload: str = ""


@dataclass
class ServiceCall:
    provider_id: int
    service_token: uuid.UUID
    service_id: int
    parameters: dict = field(default_factory=dict)


@dataclass
class ServiceParameters:
    destination: uuid.UUID
    messages: list[MessageSpec]


def _integer(value, name, bounds, errors):
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = ["Must be an integer."]
    elif not bounds[0] <= value <= bounds[1]:
        errors[name] = ["Out of range."]


def _uuid(value, name, errors, message="Must be a UUID."):
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    errors[name] = [message]
    return None


def parse_service_call(data) -> ServiceCall:
    """The identity fields of a /Services body (provider_id, service_token, service_id, parameters)."""
    if not isinstance(data, dict):
        raise InvalidBody("The body must be a JSON object.")
    errors: dict[str, list[str]] = {}
    for name in ("provider_id", "service_token", "service_id", "parameters"):
        if name not in data or data[name] is None:
            errors[name] = ["This field is required."]
    if "provider_id" not in errors:
        _integer(data["provider_id"], "provider_id", INT64, errors)
    if "service_id" not in errors:
        _integer(data["service_id"], "service_id", INT32, errors)
    token = _uuid(data["service_token"], "service_token", errors) if "service_token" not in errors else None
    if "parameters" not in errors and not isinstance(data["parameters"], dict):
        errors["parameters"] = ["Must be an object."]
    unknown = set(data) - {"provider_id", "service_token", "service_id", "parameters"}
    for name in sorted(unknown):
        errors[str(name)[:64]] = ["Unknown field."]
    if errors:
        raise InvalidBody("The request body is invalid.", errors)
    return ServiceCall(data["provider_id"], token, data["service_id"], data["parameters"])


def parse_parameters(parameters: dict) -> ServiceParameters:
    """Validate ``parameters``: a destination and at least one notification, advertisement or qr_code."""
    errors: dict[str, list[str]] = {}
    if "microPayment" in parameters:
        raise InvalidBody(
            "microPayment is not offered by this portal.", {"parameters.microPayment": ["This service is not offered."]}
        )
    destination = None
    if parameters.get("destination") in (None, ""):
        errors["parameters.destination"] = ["This field is required."]
    else:
        destination = _uuid(
            parameters["destination"], "parameters.destination", errors, "Must be a user id (the user's public UUID)."
        )
    for name in sorted(set(parameters) - {"destination", *PARAMETER_KINDS}):
        errors[f"parameters.{str(name)[:64]}"] = ["Unknown field."]
    messages = []
    for name, kind in PARAMETER_KINDS.items():
        if parameters.get(name) is not None:
            spec = _parse_message(kind, parameters[name], f"parameters.{name}", errors)
            if spec is not None:
                messages.append(spec)
    if not any(parameters.get(name) is not None for name in PARAMETER_KINDS) and not errors:
        errors["parameters"] = ["Send at least one of notification, advertisement or qr_code."]
    if errors:
        raise InvalidBody("The request body is invalid.", errors)
    return ServiceParameters(destination=destination, messages=messages)


def _normalised(value: dict, path: str, allowed, errors) -> dict:
    out = {}
    for key, item in value.items():
        name = str(key).lower()
        name = ALIASES.get(name, name)
        if name not in allowed:
            errors[f"{path}.{str(key)[:64]}"] = ["Unknown field."]
        elif name in out:
            errors[f"{path}.{name}"] = ["Given twice (under two spellings)."]
        else:
            out[name] = item
    return out


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(c) == "Cc" or c in "\u2028\u2029" for c in value)


def _text(value, path, limit, errors, *, required, one_line=False):
    if value is None or value == "":
        if required:
            errors[path] = ["This field is required."]
        return ""
    if not isinstance(value, str):
        errors[path] = ["Must be a string."]
        return ""
    if one_line and _has_control_characters(value):
        errors[path] = ["Must not hold control characters (line breaks, tabs and the like)."]
        return ""
    value = value.strip()
    if required and not value:
        errors[path] = ["This field is required."]
    elif len(value) > limit:
        errors[path] = [f"At most {limit} characters (got {len(value)})."]
    return value


def _parse_message(kind, value, path, errors) -> MessageSpec | None:
    if kind == InboxKind.COUPON and isinstance(value, str):
        value = {"data": value}
    if not isinstance(value, dict):
        errors[path] = ["Must be an object."]
        return None
    fields = _normalised(value, path, MESSAGE_FIELDS[kind], errors)
    coupon = kind == InboxKind.COUPON
    spec = MessageSpec(kind=kind)
    spec.title = _text(fields.get("title"), f"{path}.title", TITLE_MAX, errors, required=not coupon, one_line=True)
    spec.message = _text(fields.get("message"), f"{path}.message", MESSAGE_MAX, errors, required=not coupon, one_line=True)
    spec.channel = _channel(fields.get("channel"), f"{path}.channel", errors, required=not coupon)
    spec.link = _link(fields.get("link"), f"{path}.link", errors)
    if coupon:
        spec.qr_payload = _text(fields.get("data"), f"{path}.data", QR_DATA_MAX, errors, required=True)
    if fields.get("picture") not in (None, ""):
        spec.picture, spec.picture_type = _picture(fields["picture"], f"{path}.picture", errors)
    return spec


def _channel(value, path, errors, *, required):
    if value is None or value == "":
        if required:
            errors[path] = ["This field is required."]
        return ""
    if isinstance(value, str) and value.strip().lower() in CHANNELS:
        return CHANNELS[value.strip().lower()]
    errors[path] = [f"Unknown channel code; use one of {', '.join(CHANNELS.values())}."]
    return ""


def _link(value, path, errors):
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > LINK_MAX:
        errors[path] = [f"Must be an http(s) URL of at most {LINK_MAX} characters."]
        return ""
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        errors[path] = ["Must be an http(s) URL."]
        return ""
    return value


def _picture(value, path, errors):
    """Decode a base64 picture (optionally a data: URL) and check it is a real, bounded image."""
    max_bytes = conf.PICTURE_MAX_BYTES
    if not isinstance(value, str):
        errors[path] = ["Must be a base64 string."]
        return None, ""
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    if len(value) > (max_bytes * 4) // 3 + 4:
        errors[path] = [f"The picture is larger than {max_bytes} bytes."]
        return None, ""
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        errors[path] = ["Not valid base64."]
        return None, ""
    try:
        # Only the allowed formats' decoders ever see the bytes.
        with Image.open(io.BytesIO(raw), formats=list(PICTURE_FORMATS)) as image:
            fmt = image.format
            width, height = image.size
            if width * height > conf.PICTURE_MAX_PIXELS:
                errors[path] = [f"The picture has too many pixels ({width}×{height})."]
                return None, ""
            frames = getattr(image, "n_frames", 1)
            if frames > PICTURE_MAX_FRAMES:
                errors[path] = [f"The picture has more than {PICTURE_MAX_FRAMES} frames."]
                return None, ""
            image.verify()
        with Image.open(io.BytesIO(raw), formats=[fmt]) as image:
            image.load()
            stored = _reencoded(image, fmt, animated=frames > 1)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        errors[path] = [f"Not a readable image in one of the allowed formats ({', '.join(PICTURE_FORMATS)})."]
        return None, ""
    return stored, PICTURE_FORMATS[fmt]


def _reencoded(image, fmt: str, *, animated: bool) -> bytes:
    """The picture drawn again by Pillow in its own format: what is stored and served is never the bytes received."""
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    image.save(out, format=fmt, **({"save_all": True} if animated else {}))
    return out.getvalue()


def parse_idempotency_key(value: str | None) -> str:
    if value is None:
        return ""
    value = value.strip()
    if not value or len(value) > IDEMPOTENCY_KEY_MAX or not value.isprintable():
        raise InvalidBody(
            "The Idempotency-Key header is invalid.",
            {"Idempotency-Key": [f"Up to {IDEMPOTENCY_KEY_MAX} printable characters."]},
        )
    return value


def service_request_json(service_request, location: str) -> dict:
    """A created service request as answered to its provider."""
    return {
        "id": str(service_request.public_id),
        "provider_id": service_request.provider.provider_id,
        "service_id": service_request.service_id,
        "destination": str(service_request.destination.public_id),
        "status": service_request.status,
        "created_at": service_request.created_at.isoformat(),
        "location": location,
        "items": [
            {
                "id": str(item.public_id),
                "kind": item.kind,
                "channel": item.channel or None,
                "delivery_status": item.delivery_status,
            }
            for item in service_request.items.all()
        ],
    }


# --- OpenAPI 3 -----------------------------------------------------------------------

_ERROR = {
    "type": "object",
    "required": ["error", "error_description"],
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "field_errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}


def _any_case(word: str) -> str:
    """A regular expression matching ``word`` in any letter case (JSON Schema patterns have no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


def _spellings(name: str) -> list[str]:
    """Every spelling the parser reads as ``name``: itself and its aliases (``_normalised``)."""
    return [name, *sorted(alias for alias, canonical in ALIASES.items() if canonical == name)]


_FIELD_SCHEMAS = {
    "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX, "pattern": ONE_LINE_TEXT},
    "message": {"type": "string", "minLength": 1, "maxLength": MESSAGE_MAX, "pattern": ONE_LINE_TEXT},
    # The parser reads channel codes in any case, around spaces (``_channel``).
    "channel": {
        "type": "string",
        "pattern": r"^\s*(" + "|".join(_any_case(code) for code in CHANNELS.values()) + r")\s*$",
        "description": f"One of {', '.join(CHANNELS.values())}, in any letter case.",
    },
    "link": {"type": "string", "format": "uri", "pattern": "^https?://", "example": "https://example.com/offer"},
    "picture": {"type": "string", "format": "byte", "description": "Base64 PNG, JPEG, GIF or WebP."},
    "data": {"type": "string", "minLength": 1, "maxLength": QR_DATA_MAX, "pattern": r"^\S(.*\S)?$"},
}


def _message_schema(kind: str, required: list[str]) -> dict:
    """A message object exactly as ``_parse_message`` reads it, built from the same tables.

    Field names are matched in any letter case and under their aliases (``ALIASES``): each
    field is described under its English name and, through ``patternProperties``, under every
    spelling; anything else is refused, as the parser refuses unknown fields. JSON Schema's
    ``required`` names one exact spelling where the parser takes any, so a required field is
    said as "some property name matches one of its spellings": not all names fail to match.
    """
    fields = MESSAGE_FIELDS[kind]
    aliases = {name: _spellings(name) for name in fields}
    names = {name: "^(" + "|".join(_any_case(spelling) for spelling in aliases[name]) + ")$" for name in fields}
    return {
        "type": "object",
        "minProperties": len(required),
        "allOf": [{"not": {"propertyNames": {"not": {"pattern": names[name]}}}} for name in required],
        "properties": {name: _FIELD_SCHEMAS[name] for name in fields},
        "patternProperties": {names[name]: _FIELD_SCHEMAS[name] for name in fields},
        "additionalProperties": False,
        "description": f"Required: {', '.join(required)} (under any of their spellings). "
        "Field names in any letter case; also accepted: "
        + "; ".join(f"{', '.join(aliases[n][1:])} for {n}" for n in fields if len(aliases[n]) > 1)
        + ".",
    }


def _errors(*codes):
    return {str(code): {"$ref": f"#/components/responses/Error{code}"} for code in codes}


def _form_body(required: list[str], properties: dict) -> dict:
    """A required application/x-www-form-urlencoded request body."""
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": required, "properties": properties}}
        },
    }


# client_secret_post: the client's credentials in the form body instead of HTTP Basic (never both).
_CLIENT_FIELDS = {
    "client_id": {"type": "string", "description": "client_secret_post only."},
    "client_secret": {"type": "string", "description": "client_secret_post only."},
}
_TOKEN_FORM = _form_body(["token"], {"token": {"type": "string"}, "token_type_hint": {"type": "string"}, **_CLIENT_FIELDS})
# Callers of tokeninfo and revoke: a client with its secret (Basic or the form body) or a portal access token.
_CALLERS = [{"client": []}, {"bearer": []}, {}]


def openapi_schema(server_url: str = "/") -> dict:
    """The OpenAPI 3 description of the service-provider API."""
    error_response = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        # 3.1 (JSON Schema 2020-12): patternProperties describe the any-case field names the parser reads.
        "openapi": "3.1.0",
        "info": {
            "title": "Pharmacy portal — service-provider API",
            "version": "1.0",
            "description": "OAuth 2.0 client credentials (RFC 6749), introspection (RFC 7662, with signed "
            "answers per RFC 9701), revocation (RFC 7009), server metadata (RFC 8414) and /Services. "
            "Clients authenticate with HTTP Basic (client_secret_basic) or client_id and client_secret in the "
            "form body (client_secret_post); tokeninfo and revoke also accept one of the portal's access tokens "
            "as `Authorization: Bearer <JWT>`.",
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "client": {"type": "http", "scheme": "basic", "description": "client_secret_basic: client_id:client_secret."},
            },
            "schemas": {
                "Error": _ERROR,
                "Notification": _message_schema(InboxKind.NOTIFICATION, ["title", "message", "channel"]),
                "Advertisement": _message_schema(InboxKind.ADVERTISEMENT, ["title", "message", "channel"]),
                # A coupon may also be given as its data alone (a string).
                "QrCode": {
                    "oneOf": [_message_schema(InboxKind.COUPON, ["data"]), _FIELD_SCHEMAS["data"]],
                },
                "ServiceRequest": {
                    "type": "object",
                    "required": ["provider_id", "service_token", "service_id", "parameters"],
                    "additionalProperties": False,
                    "properties": {
                        "provider_id": {"type": "integer", "format": "int64"},
                        "service_token": {"type": "string", "format": "uuid"},
                        "service_id": {"type": "integer", "format": "int32"},
                        "parameters": {
                            "type": "object",
                            "required": ["destination"],
                            "additionalProperties": False,
                            "minProperties": 2,
                            "properties": {
                                "destination": {"type": "string", "format": "uuid"},
                                "notification": {"$ref": "#/components/schemas/Notification"},
                                "advertisement": {"$ref": "#/components/schemas/Advertisement"},
                                "qr_code": {"$ref": "#/components/schemas/QrCode"},
                            },
                        },
                    },
                },
                "ServiceRequestCreated": {
                    "type": "object",
                    "required": ["id", "status", "location", "items"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "provider_id": {"type": "integer"},
                        "service_id": {"type": "integer"},
                        "destination": {"type": "string"},
                        "status": {"type": "string", "enum": ["accepted", "delivered", "partially_delivered", "failed"]},
                        "created_at": {"type": "string"},
                        "location": {"type": "string"},
                        "items": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Introspection": {
                    "type": "object",
                    "required": ["active"],
                    "properties": {
                        "active": {"type": "boolean"},
                        "scope": {"type": "string"},
                        "client_id": {"type": "string"},
                        "username": {"type": "string"},
                        "token_type": {"type": "string"},
                        "exp": {"type": "integer"},
                        "iat": {"type": "integer"},
                        "nbf": {"type": "integer"},
                        "sub": {"type": "string"},
                        "aud": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                        "iss": {"type": "string"},
                        "jti": {"type": "string"},
                    },
                },
                "ServerMetadata": {
                    "type": "object",
                    "required": ["issuer", "token_endpoint", "jwks_uri", "grant_types_supported", "response_types_supported"],
                    "properties": {
                        "issuer": {"type": "string", "description": "The tokens' iss."},
                        "token_endpoint": {"type": "string", "format": "uri"},
                        "introspection_endpoint": {"type": "string", "format": "uri"},
                        "revocation_endpoint": {"type": "string", "format": "uri"},
                        "jwks_uri": {"type": "string", "format": "uri"},
                        "service_documentation": {"type": "string", "format": "uri"},
                        "grant_types_supported": {"type": "array", "items": {"type": "string"}},
                        "response_types_supported": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
                        "scopes_supported": {"type": "array", "items": {"type": "string"}},
                        "token_endpoint_auth_methods_supported": {"type": "array", "items": {"type": "string"}},
                        "introspection_endpoint_auth_methods_supported": {"type": "array", "items": {"type": "string"}},
                        "revocation_endpoint_auth_methods_supported": {"type": "array", "items": {"type": "string"}},
                        "introspection_signing_alg_values_supported": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "responses": {
                **{f"Error{code}": error_response for code in (400, 401, 403, 404, 405, 409, 413, 415)},
                "Error429": {
                    **error_response,
                    "description": "Too many requests from this provider (MCG_SERVICES_RATE_LIMIT)",
                    "headers": {"Retry-After": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
                },
            },
        },
        "paths": {
            "/mcg/v1/token": {
                "post": {
                    "summary": "Client credentials grant (RFC 6749 §4.4)",
                    "security": [{"client": []}, {}],
                    "requestBody": _form_body(
                        ["grant_type"],
                        {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "scope": {"type": "string", "enum": ["services", "tokeninfo", "services tokeninfo"]},
                            **_CLIENT_FIELDS,
                        },
                    ),
                    "responses": {
                        "200": {
                            "description": "Access token",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["access_token", "token_type", "expires_in"],
                                        "properties": {
                                            "access_token": {"type": "string"},
                                            "token_type": {"type": "string"},
                                            "expires_in": {"type": "integer"},
                                            "scope": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        **_errors(400, 401, 405, 415),
                    },
                }
            },
            "/mcg/v1/tokeninfo": {
                "post": {
                    "summary": "Token introspection (RFC 7662), answered for the caller",
                    "description": 'The caller\'s own tokens are answered in full, anything else `{"active": false}`. '
                    "With `Accept: application/token-introspection+jwt` the answer is a JWT (RFC 9701) signed with "
                    "the keys of /.well-known/jwks.json: header typ `token-introspection+jwt`, claims `iss`, `aud` "
                    "(the caller's client_id), `iat` and `token_introspection` (the JSON answer).",
                    "security": _CALLERS,
                    "requestBody": _TOKEN_FORM,
                    "responses": {
                        "200": {
                            "description": "Introspection",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Introspection"}},
                                "application/token-introspection+jwt": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 401, 403, 405, 415),
                    },
                }
            },
            "/mcg/v1/revoke": {
                "post": {
                    "summary": "Token revocation (RFC 7009)",
                    "description": "A caller revokes its own client's tokens; anything else is answered 200 all the same.",
                    "security": _CALLERS,
                    "requestBody": _TOKEN_FORM,
                    "responses": {
                        "200": {"description": "Revoked (or nothing to revoke)"},
                        **_errors(400, 401, 403, 405, 415),
                    },
                }
            },
            "/Services": {
                "post": {
                    "summary": "Consume a service: send a notification, an advertisement or a coupon to a user",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceRequest"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "headers": {"Location": {"schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceRequestCreated"}}},
                        },
                        **_errors(400, 401, 403, 404, 405, 409, 413, 415, 429),
                    },
                }
            },
            "/Services/{request_id}": {
                "get": {
                    "summary": "A request this provider created",
                    "security": [{"bearer": []}],
                    "parameters": [{"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {
                            "description": "The request",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceRequestCreated"}}},
                        },
                        **_errors(401, 403, 404, 405),
                    },
                }
            },
            "/.well-known/oauth-authorization-server": {
                "get": {
                    "summary": "Authorization server metadata (RFC 8414)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Where the endpoints are and what they accept",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerMetadata"}}},
                        },
                        **_errors(405),
                    },
                }
            },
            "/.well-known/jwks.json": {
                "get": {
                    "summary": "Public keys of the portal's access tokens",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "JWK Set",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array"}}}
                                }
                            },
                        }
                    },
                }
            },
        },
    }
