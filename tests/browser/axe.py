"""axe-core (pinned in package-lock.json, installed by ``make install-dev``) run on the page a browser test has open."""

from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def violations(page) -> list[dict]:
    """The page's serious or critical accessibility violations, as axe-core reports them."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run 'make install-dev' (npm ci installs axe-core).")
    # Evaluated through the browser's protocol, not as a <script> of the page: the portal's CSP stays as it is.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def assert_accessible(page) -> None:
    """Fail with what axe-core found (rule, impact, the elements) if the page has a serious or critical violation."""
    found = violations(page)
    assert not found, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:5])}" for v in found
    )
