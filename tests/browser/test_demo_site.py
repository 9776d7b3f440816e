"""The demo site `make run` serves at /: a nonprofit's program page that embeds the three forms
with one script, under a strict CSP, with the spring appeal's progress bar. Screenshots at 1280
and 390 px go to .local/screenshots/demo/."""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from devstack.stack import ROOT, Stack
from tests.browser.conftest import GIVE, axe_violations, fill_card
from tests.helpers import CARD_OK

pytestmark = pytest.mark.browser

SHOTS = ROOT / ".local" / "screenshots" / "demo"
CAMPAIGN = "spring-appeal"
BAR = "#campaign-bar"
FIGURES = "#campaign-figures"


class Demo:
    """A tab on the demo page, recording what its CSP refused and what it sent."""

    def __init__(self, browser: Browser, stack: Stack, width: int = 1280, path: str = "/") -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.refused: list[str] = []
        self.sent: list[Any] = []
        self.page.on("console", self._console)
        self.page.on("request", lambda r: self.sent.append(r))
        self.page.goto(stack.config.web_url + path)
        if path == "/":
            expect(self.page.locator(GIVE)).to_be_enabled(timeout=15_000)
            expect(self.page.locator(FIGURES)).to_contain_text("raised", timeout=15_000)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.refused.append(message.text)

    def focused(self) -> str:
        return str(self.page.evaluate("document.activeElement && document.activeElement.id"))

    def shoot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        size = self.page.viewport_size
        for width in (1280, 390):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        if size:
            self.page.set_viewport_size(size)

    def close(self) -> None:
        self.context.close()
        assert self.refused == [], self.refused  # nothing the page's own CSP had to refuse


@pytest.fixture
def demo(browser: Browser, stack: Stack) -> Iterator[Demo]:
    tab = Demo(browser, stack)
    yield tab
    tab.close()


def test_the_program_page_has_its_landmarks_and_sections(demo: Demo, stack: Stack) -> None:
    from chalicelib.bootstrap import get_settings

    page, settings = demo.page, get_settings()
    banner = page.get_by_role("banner")
    expect(banner).to_contain_text(settings.org_name)  # the name its emails and receipts carry
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Our work", "Donate", "Sign up", "Contact"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("main")).to_have_count(1)
    story = page.locator("#story")
    expect(story.get_by_role("heading", level=2)).to_have_count(2)
    assert len(story.inner_text()) > 1200  # the program's story, not a stub
    expect(page.get_by_role("link", name="Donate Now")).to_have_attribute("href", "#donate")
    expect(page.get_by_role("heading", name="Sign Up For Email")).to_be_visible()
    expect(page.locator("#signup")).to_contain_text("Please sign up below for important news")
    honeypot = page.locator("#signup").get_by_label("Please leave this field empty")
    expect(honeypot).to_have_attribute("tabindex", "-1")  # off screen, out of the tab order
    expect(page.get_by_role("heading", name="Contact Us")).to_be_visible()
    expect(page.locator("#contact")).to_contain_text("Questions? Concerns? Please contact our program:")
    expect(page.locator("#steward-contact-topic")).to_have_value("peace-programs")
    footer = page.get_by_role("contentinfo")
    expect(footer).to_contain_text(settings.org_address)
    expect(footer.get_by_role("link", name="Back To Top")).to_have_attribute("href", "#top")
    expect(footer.get_by_role("link", name="Privacy")).to_be_visible()

    # The campaign's progress, as a progress bar with its text (no names): from GET /campaigns/...
    progress = requests.get(f"{stack.config.api_url}/campaigns/{CAMPAIGN}", timeout=10).json()
    bar = page.get_by_role("progressbar", name=progress["title"])
    expect(bar).to_have_attribute("max", str(progress["goal"]))
    expect(page.locator(FIGURES)).to_contain_text(f"of ${progress['goal'] // 100:,} goal")

    # Embedded as a nonprofit's own site does it: placeholders and one script, nothing inline.
    source = requests.get(stack.config.web_url + "/", timeout=10)
    assert source.text.count("data-steward-form=") == 3
    assert len(re.findall(r"<script\b[^>]*\bdata-api=", source.text)) == 1
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source.text)
    assert "<style" not in source.text and " style=" not in source.text
    policy = source.headers["Content-Security-Policy"]
    config = requests.get(f"{stack.config.api_url}/config", timeout=10).json()
    stripe_origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(config["stripe_js_url"]))
    assert re.search(rf"script-src 'self' {re.escape(stripe_origin)}(;| )", policy)
    assert f"connect-src 'self' {stack.config.api_url}" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.locator(f"script[src='{config['stripe_js_url']}']").count() == 1  # /config's Stripe.js

    footer.get_by_role("link", name="Privacy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy")
    expect(page.get_by_role("main")).to_contain_text("card")
    assert "Content-Security-Policy" in requests.get(page.url, timeout=10).headers
    demo.shoot("privacy")


def test_a_50_dollar_gift_shows_the_thanks_and_the_bar_rises(demo: Demo, stack: Stack) -> None:
    page = demo.page
    demo.shoot("page")
    before = int(page.locator(BAR).get_attribute("value") or "0")
    time.sleep(2.1)  # a person takes longer than the time trap to fill the form
    page.get_by_role("button", name="$50", exact=True).click()
    page.fill("#steward-donate-first-name", "Grace")
    page.fill("#steward-donate-last-name", "Hopper")
    page.fill("#steward-donate-email", f"demo-{time.time_ns()}@example.org")
    fill_card(page, CARD_OK)
    page.click(GIVE)
    thanks = page.locator("#steward-donate-thanks")
    expect(thanks).to_contain_text("Your gift of $50.00 to Peace Programs was received.", timeout=20_000)
    [created] = [r for r in demo.sent if r.method == "POST" and r.url.endswith("/donations")]
    assert created.post_data_json["campaign"] == CAMPAIGN

    # The stream updates the campaign's totals; the page fetches them again until they move.
    bar = page.locator(BAR)
    expect(bar).not_to_have_attribute("value", str(before), timeout=20_000)
    assert int(bar.get_attribute("value") or "0") >= before + 5000
    progress = requests.get(f"{stack.config.api_url}/campaigns/{CAMPAIGN}", timeout=10).json()
    expect(page.locator(FIGURES)).to_contain_text(f"${progress['raised'] / 100:,.0f} raised")
    expect(page.locator(FIGURES)).to_contain_text(re.compile(r"\d+ donors?"))
    expect(page.locator("#campaign")).not_to_contain_text("Grace")
    assert axe_violations(page) == []
    demo.shoot("thanks")


def tab_to(demo: Demo, test: str, limit: int = 120) -> None:
    """Tab until the focused element passes `test` (a JS expression over `e`)."""
    for _ in range(limit):
        if demo.page.evaluate(f"(() => {{ const e = document.activeElement; return !!e && ({test}); }})()"):
            return
        demo.page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {test}; focus is on #{demo.focused()}")


def comes_into_view(page: Page, selector: str) -> None:
    """Waits until the element's top is in the window (the page scrolls smoothly)."""
    page.wait_for_function(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
        " return r.top >= -1 && r.top < window.innerHeight / 2; }",
        arg=selector,
        timeout=5_000,
    )


def test_navigation_and_back_to_top_from_the_keyboard(demo: Demo) -> None:
    page, keys = demo.page, demo.page.keyboard
    keys.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    tab_to(demo, "e.closest('nav') && e.textContent === 'Contact'")
    keys.press("Enter")
    expect(page).to_have_url(re.compile("#contact$"))
    assert demo.focused() == "contact"
    comes_into_view(page, "#contact")
    keys.press("Tab")  # on from the section: into its form
    assert demo.focused() == "steward-contact-name"

    tab_to(demo, "e.textContent === 'Back To Top'")
    keys.press("Enter")
    page.wait_for_function("() => window.scrollY === 0", timeout=5_000)
    assert demo.focused() == "top"
    keys.press("Tab")  # the header's first link again
    assert page.evaluate("document.activeElement.closest('header') !== null")

    tab_to(demo, "e.textContent === 'Donate Now'")
    keys.press("Enter")
    assert demo.focused() == "donate"
    comes_into_view(page, "#donate")


@pytest.mark.parametrize("width", [1280, 390, 320])
def test_axe_and_no_sideways_scroll(browser: Browser, stack: Stack, width: int) -> None:
    for path in ("/", "/privacy.html"):
        tab = Demo(browser, stack, width=width, path=path)
        page = tab.page
        assert axe_violations(page) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        if path == "/":
            page.click(GIVE)  # the error state: messages at each field
            expect(page.locator("#steward-donate-amount-error")).to_be_visible()
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"errors-{width}.png"), full_page=True)
        tab.close()
