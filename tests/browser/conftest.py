"""Headless Debian Chromium, driven by Playwright, against the session's stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

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
    expect(page.locator("#give")).to_be_enabled(timeout=15_000)
    yield page
    context.close()


SERIOUS = ("serious", "critical")


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
