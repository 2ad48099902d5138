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
        page.evaluate(_axe_source())
    # One run at a time on a page (the load checker and a test may ask at once).
    result = page.evaluate(
        """async () => {
            const previous = window.__axeRun || Promise.resolve();
            const run = previous.catch(() => null).then(() => axe.run(document, {resultTypes: ['violations']}));
            window.__axeRun = run;
            return await run;
        }"""
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


_source = None


def _axe_source() -> str:
    global _source
    if _source is None:
        # Defined once even if two callers inject it at the same time.
        _source = "(() => { if (typeof window.axe === 'undefined') {\n" + AXE_JS.read_text() + "\n} })()"
    return _source


def describe(found: list[dict]) -> list[str]:
    """Each violation as a line: its rule, its impact and (the first five of) the elements it flags."""
    return [f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:5])}" for v in found]


def assert_accessible(page) -> None:
    """Fail with what axe-core found (rule, impact, the elements) if the page has a serious or critical violation."""
    found = violations(page)
    assert not found, f"{page.url}: " + "; ".join(describe(found))


class PageChecker:
    """Runs axe-core on every staff or admin page a test's browser loads; the violations are kept for the end of the test.

    The simulated outside systems (``/sandbox/``) are not the portal's pages and are not checked, nor are
    the API references: they are Swagger UI's own markup, vendored as it is (axe flags its nested
    controls and its colours), for the engineers who integrate, not staff or admin pages.
    """

    NOT_CHECKED = ("/sandbox/", "/mcg/v1/docs", "/integrations/mobilesaude/docs")

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.found: dict[str, list[str]] = {}
        self.checked: list[str] = []
        self.paused = False  # a test that must see the page untouched (e.g. the CSP test) checks it later

    def on_load(self, _page=None) -> None:
        if not self.paused:
            self.check_now()

    def check_now(self) -> None:
        """Check the page the browser has open now (a portal page: not the sandbox)."""
        url = self.page.url
        if not url.startswith(self.base_url + "/") or url[len(self.base_url) :].startswith(self.NOT_CHECKED):
            return
        try:
            found = violations(self.page)
        except Exception as exc:  # the page went on to another one meanwhile: that one is checked on its own load
            if "context was destroyed" in str(exc) or "navigat" in str(exc).lower():
                return
            raise
        self.checked.append(url)
        if found:
            self.found[url] = describe(found)

    def assert_clean(self) -> None:
        assert not self.found, "Accessibility (axe-core, serious or critical): " + " | ".join(
            f"{url}: {'; '.join(items)}" for url, items in self.found.items()
        )
