"""The machine endpoints' short middleware chain (``providers.inbound.MachineApiMiddleware``)."""

from django.urls import URLPattern, URLResolver, get_resolver

from providers.inbound import MACHINE_PREFIXES


def routes(patterns, prefix=""):
    """Every URL pattern with its whole route (regular-expression anchors dropped)."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def test_every_machine_endpoint_is_under_a_machine_prefix():
    """The middleware only looks up paths under MACHINE_PREFIXES: a machine view elsewhere would get the
    whole browser chain (sessions, CSRF, language) instead of its contract's answers."""
    machine = [route for route, view in routes(get_resolver().url_patterns) if getattr(view, "machine_api", False)]
    assert len(machine) >= 8
    outside = [route for route in machine if not ("/" + route).startswith(MACHINE_PREFIXES)]
    assert outside == []


def test_a_machine_path_is_answered_without_a_session_or_language_cookie(client):
    response = client.get("/.well-known/oauth-authorization-server", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert not response.cookies
    assert "Content-Language" not in response  # no language negotiated: the contract's own words
    assert "Cookie" not in response.get("Vary", "")
