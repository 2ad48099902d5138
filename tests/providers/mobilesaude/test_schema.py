"""The published OpenAPI schema, and schemathesis against it in-process (WSGI): no 500s, every answer conforms."""

import hypothesis
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import reverse
from schemathesis.specs.openapi.checks import ignored_auth

from providers.mobilesaude.schemas import openapi_document

from .conftest import SENHA, USUARIO
from .seed_rules import check_autorizacao_success, check_failure, check_identificacao_success


def test_the_openapi_schema_is_served(client):
    response = client.get(reverse("mobilesaude:openapi"))

    assert response.status_code == 200
    document = response.json()
    assert document == openapi_document()  # what the tests below run against
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/integrations/mobilesaude/autorizacao",
        "/integrations/mobilesaude/recuperarSenhaIdentificacao",
    }
    scheme = document["components"]["securitySchemes"]["clientToken"]
    assert (scheme["in"], scheme["name"]) == ("header", "Authorization")


def in_process_app(environ, start_response):
    """The portal's WSGI app, kept on the test's database transaction (as Django's test client does)."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    try:
        result = APPLICATION(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            result.close()
    finally:
        for signal in signals:
            signal.connect(close_old_connections)
    return [body]


APPLICATION = get_wsgi_application()


# Loaded from the document the view serves (schemathesis' fixture-based loader does not run on pytest 9).
schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = in_process_app


@schema.parametrize()
@hypothesis.settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_api_conforms_to_its_schema(case, pharmacist, client_header):
    """Generated requests, valid and invalid, with and without the client header: never a 500, answers as documented."""
    response = case.call_and_validate(headers=client_header)

    assert response.status_code < 500
    body = response.json()
    if response.status_code >= 400:
        check_failure(body)
    elif case.operation.path.endswith("/autorizacao"):
        check_autorizacao_success(body)
    else:
        check_identificacao_success(body)


@schema.parametrize()
@hypothesis.settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_the_api_conforms_without_credentials(case, pharmacist, integration_client):
    response = case.call_and_validate(excluded_checks=[ignored_auth])
    assert response.status_code < 500
    if case.operation.path.endswith("/recuperarSenhaIdentificacao"):
        assert response.status_code in (401, 405)


def test_valid_answers_of_both_endpoints_conform_to_the_schema(pharmacist, client_header):
    """The happy paths, which random data rarely reaches, checked against the published response schemas."""
    autorizacao = schema["/integrations/mobilesaude/autorizacao"]["POST"]
    identificacao = schema["/integrations/mobilesaude/recuperarSenhaIdentificacao"]["POST"]

    for operation, body, headers in [
        (autorizacao, {"usuario": USUARIO, "senha": SENHA}, {}),
        (identificacao, {"cpf": "544.300.707-68", "dataNascimento": "1993-08-05"}, client_header),
    ]:
        case = operation.Case(body=body)
        response = case.call(headers=headers)
        assert response.status_code == 200, response.text
        case.validate_response(response, headers=headers)
