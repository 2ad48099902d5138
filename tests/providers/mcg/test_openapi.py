"""Property-based tests of the service-provider API against its OpenAPI 3 schema (schemathesis, in-process WSGI)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.wsgi import application

schema = schemathesis.openapi.from_wsgi("/mcg/v1/openapi.json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def in_process_wsgi():
    """Keep the test's database connection open across WSGI requests, as Django's test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(in_process_wsgi, provider_a, staff):
    return {"provider": provider_a, "staff": staff, "bearer": f"Bearer {provider_a.token()}", "basic": provider_a.basic()}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, credentials):
    provider, staff = credentials["provider"], credentials["staff"]
    if case.path in ("/mcg/v1/token", "/mcg/v1/revoke"):
        headers = {"Authorization": credentials["basic"]}
    elif case.path in ("/.well-known/jwks.json", "/.well-known/oauth-authorization-server"):
        headers = {}
    else:
        headers = {"Authorization": credentials["bearer"]}
    if case.path == "/Services" and isinstance(case.body, dict):
        # Keep the generated parameters but make the identity real, so most examples reach validation and creation.
        case.body.update(
            provider_id=provider.provider_id, service_token=provider.service_token, service_id=provider.model.service_ids[0]
        )
        if isinstance(case.body.get("parameters"), dict):
            case.body["parameters"]["destination"] = str(staff.public_id)
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_schema_describes_every_endpoint():
    paths = set(schema.raw_schema["paths"])
    assert {
        "/mcg/v1/token",
        "/mcg/v1/tokeninfo",
        "/mcg/v1/revoke",
        "/Services",
        "/Services/{request_id}",
        "/.well-known/oauth-authorization-server",
    } <= paths


@pytest.mark.parametrize(
    "notification,accepted",
    [
        ({"title": "Rappel", "message": "Lundi 9:15", "channel": "SMS"}, True),
        ({"Tittle": "Rappel", "Mensaje": "Lundi 9:15", "Cannel": "sms"}, True),
        ({"TITRE": "Rappel", "message": "Lundi 9:15", "canal": " Fcm "}, True),
        ({"title": "Rappel", "message": "Lundi 9:15", "channel": "SMS", "colour": "red"}, False),
        ({"title": "Rappel", "message": "Lundi 9:15", "channel": "PIGEON"}, False),
        # A required field missing, the count of fields made up by another one.
        ({"title": "Rappel", "message": "Lundi 9:15", "link": "https://example.com/rdv"}, False),
        ({"Titulo": "Rappel", "canal": "SMS", "lien": "https://example.com/rdv"}, False),
        ({}, False),
    ],
)
def test_document_and_parser_agree_on_spellings_and_channel_codes(notification, accepted):
    """The document is built from the parser's own tables: what one accepts, the other does."""
    import jsonschema_rs  # schemathesis's own validator

    from providers.mcg import schemas

    document = schemas.openapi_schema()
    validator = jsonschema_rs.Draft202012Validator(document["components"]["schemas"]["Notification"])
    assert validator.is_valid(notification) is accepted
    errors: dict = {}
    schemas._parse_message("notification", notification, "parameters.notification", errors)
    assert (not errors) is accepted
