"""Headless Debian Chromium, driven by Playwright, against the session's stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from devstack import npm
from devstack.stack import Stack

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(stack.config.web_url + "/index.html")
    expect(page.locator(GIVE)).to_be_enabled(timeout=15_000)
    yield page
    context.close()


SERIOUS = ("serious", "critical")
GIVE = "#steward-donate-give"  # the embedded donate form's button (web/embed.js)


AXE_WITHOUT_PRELOAD = """
;(function () {
  const run = window.axe.run.bind(window.axe);
  window.axe.run = (context, options) => run(context, Object.assign({ preload: false }, options || {}));
})();
"""


def add_axe(context: BrowserContext) -> None:
    """axe-core in every page of the context, told not to fetch the page's stylesheets (its
    CSSOM preload): on a host page whose connect-src lists only the API, that fetch would be a
    CSP refusal of the test's own making (tests/browser/test_embed.py fails on any refusal)."""
    axe = (npm.ensure_assets() / "axe.min.js").read_text()
    context.add_init_script(script=axe + AXE_WITHOUT_PRELOAD)


def axe_violations(page: Page) -> list[str]:
    """axe-core (pinned from npm, see devstack/npm.py) run on the page as it is now: each
    serious or critical violation as "rule: target, target...". An empty list is clean."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's debugging channel, which the page's CSP does not
        # govern: the page keeps its strict policy while it is checked.
        source = (npm.ensure_assets() / "axe.min.js").read_text(encoding="utf-8")
        page.evaluate(source + "\n;undefined")
    result = page.evaluate("async () => (await window.axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): " + ", ".join(str(n["target"]) for n in v["nodes"])
        for v in result
        if v["impact"] in SERIOUS
    ]


def fill_card(page: Page, number: str) -> None:
    """The embedded donate form's card (localstripe's fields, labelled by web/embed.js)."""
    card = page.locator("#steward-donate-card")
    card.get_by_label("Card number").fill(number)
    card.get_by_label("Expiry month (MM)").fill("12")
    card.get_by_label("Expiry year (YY)").fill("34")
    card.get_by_label("Security code").fill("123")
    card.get_by_label("ZIP or postal code").fill("30307")
