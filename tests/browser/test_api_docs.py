"""The API references: Swagger UI from the portal's own static files, under the Content-Security-Policy,
its "Try it out" sending real requests to the portal in development."""

import pytest

from providers.mobilesaude import services as mobilesaude
from tests.conftest import screenshot

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def open_reference(page, live_server, path: str):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(COLLECT_VIOLATIONS)
    response = page.goto(path)
    assert response.status == 200
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").wait_for()
    # Nothing comes from elsewhere (no CDN).
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requested), requested
    return console


def execute(page, path_text: str):
    operation = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text=path_text)).first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    return operation


def test_service_provider_reference_tries_an_endpoint_against_the_portal(page, live_server, transactional_db, settings):
    settings.API_DOCS_TRY_IT = True
    console = open_reference(page, live_server, "/mcg/v1/docs")
    assert "service-provider API" in page.locator(".swagger-ui .info .title").inner_text()
    for path in ("/mcg/v1/token", "/mcg/v1/tokeninfo", "/mcg/v1/revoke", "/Services", "/.well-known/oauth-authorization-server"):
        assert page.locator(".opblock-summary-path", has_text=path).count() >= 1, path
    operation = execute(page, "/.well-known/oauth-authorization-server")
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert '"token_endpoint"' in operation.locator(".live-responses-table .microlight").first.inner_text()
    screenshot(page, "api-docs-mcg")
    assert page.evaluate("window.__csp") == []
    assert not [text for text in console if "Content Security Policy" in text]


def test_mobilesaude_reference_tries_autorizacao_and_shows_its_mensagem(page, live_server, transactional_db, settings):
    settings.API_DOCS_TRY_IT = True
    mobilesaude.create_client(usuario="app-docs", password="an-app-password-long-enough")
    console = open_reference(page, live_server, "/integrations/mobilesaude/docs")
    operation = execute(page, "/integrations/mobilesaude/autorizacao")
    operation.locator("textarea.body-param__text").fill('{"usuario": "app-docs", "senha": "wrong-password"}')
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "401"
    assert "mensagem" in operation.locator(".live-responses-table .microlight").first.inner_text()
    screenshot(page, "api-docs-mobilesaude")
    assert page.evaluate("window.__csp") == []
    assert not [text for text in console if "Content Security Policy" in text]


def test_without_try_it_the_reference_only_reads(page, live_server, transactional_db, settings):
    settings.API_DOCS_TRY_IT = False
    open_reference(page, live_server, "/mcg/v1/docs")
    operation = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text="/mcg/v1/token")).first
    operation.locator(".opblock-summary").click()
    operation.locator(".opblock-body").wait_for()
    assert operation.get_by_role("button", name="Try it out").count() == 0
