"""The embeddable forms on a page of another origin, served with a strict Content-Security-Policy
(no inline script or style): a real gift through localstripe, errors at their fields, the
keyboard alone, axe-core in each state, no sideways scroll at 320 and 360 px, screenshots."""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, expect

from devstack.stack import Stack
from tests.browser.conftest import GIVE, add_axe, axe_violations, fill_card
from tests.helpers import CARD_3DS, CARD_DECLINED_AT_CHARGE, CARD_OK, Mailbox

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Friends of the Valley Clinic</title>
</head>
<body>
  <main>
    <h1>Friends of the Valley Clinic</h1>
    <h2>Give</h2>
    <div data-steward-form="donate" data-fund="health-programs"></div>
    <h2>Sign Up For Email</h2>
    <div data-steward-form="signup"></div>
    <h2>Contact Us</h2>
    <div data-steward-form="contact" data-topic="health-programs"></div>
  </main>
  <script src="{forms}/embed.js" data-api="{api}" defer></script>
</body>
</html>
"""
# Records each state of the Give button (its text, disabled, the form's aria-busy).
WATCH_THE_BUTTON = """() => {
  const give = document.querySelector('#steward-donate-give');
  const form = document.querySelector('#steward-donate');
  window.stewardButtonSeen = [];
  const note = () => window.stewardButtonSeen.push(
    [give.textContent, give.disabled, form.getAttribute('aria-busy')]);
  new MutationObserver(note).observe(
    form, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
THANKS = "#steward-donate-thanks"
STATUS = "#steward-donate-status"
WIDTHS = (1280, 390)


class HostPage(BaseHTTPRequestHandler):
    """One page, with the CSP header a careful nonprofit site would send."""

    page = b""
    policy = ""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", self.policy)
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def host_url(stack: Stack, other_origin: str) -> Iterator[str]:
    c = stack.config
    policy = (
        f"default-src 'none'; script-src {c.web_url} {c.stripe_url}; style-src {c.web_url}; "
        f"connect-src {c.api_url} {c.stripe_url}; frame-src {c.stripe_url}; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    page = HOST_PAGE.format(forms=c.web_url, api=c.api_url).encode()
    handler = type("Host", (HostPage,), {"page": page, "policy": policy})
    port = urllib.parse.urlsplit(other_origin).port
    server = ThreadingHTTPServer(("127.0.0.1", port or 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield other_origin + "/"
    server.shutdown()
    server.server_close()


class Host:
    """A browser tab on the host page, recording what the CSP refused and what was sent."""

    def __init__(self, browser: Browser, url: str, width: int = 1280, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        add_axe(self.context)  # without its stylesheet fetch, which connect-src refuses
        self.page = self.context.new_page()
        self.refused: list[str] = []
        self.sent: list[Any] = []
        self.page.on("console", self._console)
        self.page.on("request", lambda r: self.sent.append(r))
        self.page.goto(url)
        expect(self.page.locator(GIVE)).to_be_enabled(timeout=15_000)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.refused.append(message.text)

    def focused(self) -> str:
        return str(self.page.evaluate("document.activeElement && document.activeElement.id"))

    def posts(self, path: str) -> list[Any]:
        return [r for r in self.sent if r.method == "POST" and urllib.parse.urlsplit(r.url).path == path]

    def shoot(self, folder: Path, name: str) -> None:
        size = self.page.viewport_size
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        if size:
            self.page.set_viewport_size(size)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def host(browser: Browser, host_url: str) -> Iterator[Host]:
    tab = Host(browser, host_url)
    yield tab
    assert tab.refused == [], tab.refused  # nothing the strict CSP had to refuse
    tab.close()


def test_a_gift_on_another_origin_under_a_strict_csp(host: Host, stack: Stack, token, tmp_path: Path) -> None:
    page = host.page
    assert urllib.parse.urlsplit(page.url).netloc not in (stack.config.web_url, stack.config.api_url)
    assert axe_violations(page) == []
    host.shoot(tmp_path, "donate-empty")
    time.sleep(2.1)  # a person takes longer than the time trap
    page.get_by_role("button", name="$50", exact=True).click()
    expect(page.locator(GIVE)).to_have_text("Give $50")
    expect(page.locator("#steward-donate")).to_contain_text("Make it monthly")
    page.fill("#steward-donate-first-name", "Ada")
    page.fill("#steward-donate-last-name", "Lovelace")
    email = f"embed-{time.time_ns()}@example.org"
    page.fill("#steward-donate-email", email)
    fill_card(page, CARD_DECLINED_AT_CHARGE)
    assert axe_violations(page) == []
    host.shoot(tmp_path, "donate-filled")
    page.evaluate(WATCH_THE_BUTTON)
    page.dblclick(GIVE)  # a double click is one attempt
    status = page.locator(STATUS)
    expect(status).to_contain_text("declined", timeout=20_000)
    expect(status).to_contain_text("another card")
    assert host.focused() == "steward-donate-status"
    assert axe_violations(page) == []
    host.shoot(tmp_path, "donate-declined")
    assert len(host.posts("/donations")) == 1
    seen = page.evaluate("window.stewardButtonSeen")
    assert ["Processing…", True, "true"] in seen  # the processing state: said, disabled, busy
    assert seen[-1] == ["Give $50", False, None]

    # the donor tries another card: a new attempt with its own Idempotency-Key, and it succeeds
    fill_card(page, CARD_OK)
    page.click(GIVE)
    thanks = page.locator(THANKS)
    expect(thanks).to_contain_text("Thank you, Ada!", timeout=20_000)
    expect(thanks).to_contain_text("Your gift of $50.00 to Health Programs was received.")
    expect(thanks).to_contain_text(f"A receipt is on its way to {email}.")
    expect(thanks.get_by_label("Email", exact=True)).to_have_value(email)  # the signup, offered
    assert host.focused() == "steward-donate-thanks"
    assert axe_violations(page) == []
    host.shoot(tmp_path, "donate-thanks")

    created = host.posts("/donations")
    keys = [r.headers.get("idempotency-key") for r in created]
    assert len(created) == 2 and all(keys) and len(set(keys)) == 2
    origin = urllib.parse.urlsplit(page.url)._replace(path="").geturl()
    assert all(r.all_headers().get("origin") == origin for r in created)  # a cross-origin call
    confirm = [r for r in host.sent if r.method == "POST" and r.url.endswith("/confirm")][-1]
    donation_id = confirm.url.split("/donations/")[1].split("/")[0]
    gift = requests.get(
        f"{stack.config.api_url}/staff/donations/{donation_id}",
        headers={"Authorization": f"Bearer {token()}"},
        timeout=10,
    ).json()
    assert (gift["status"], gift["amount"], gift["fund"], gift["email"]) == (
        "succeeded",
        5000,
        "health-programs",
        email,
    )


def test_a_monthly_gift_with_the_fee_covered_and_a_tribute(host: Host, stack: Stack, token) -> None:
    page = host.page
    time.sleep(2.1)
    page.fill("#steward-donate-amount", "40")
    expect(page.locator(GIVE)).to_have_text("Give $40")
    page.get_by_role("button", name="Make it monthly").click()
    assert host.focused() == "steward-donate-frequency-monthly"
    expect(page.locator(GIVE)).to_have_text("Give $40 monthly")
    fee = page.get_by_label(re.compile("to cover the card fee"))
    expect(fee).to_have_accessible_name(re.compile(r"^Add \$1\.2[0-9] to cover"))
    label = page.locator("label[for=steward-donate-cover-fee]").inner_text()
    added = int(re.search(r"\$1\.(\d\d)", label).group(1)) + 100  # type: ignore[union-attr]
    assert added == -(-(4000 + 30) * 1000 // 978) - 4000  # the API's formula: ceil((a + 30) / 0.978)
    fee.check()
    expect(page.locator(GIVE)).to_have_text(f"Give ${(4000 + added) / 100:.2f} monthly")
    page.get_by_label("Give in honor or in memory of someone").check()
    page.get_by_label("In memory of", exact=True).check()
    page.fill("#steward-donate-tribute-name", "Rosalind Franklin")
    page.fill("#steward-donate-tribute-notify-email", "family@example.org")
    page.fill("#steward-donate-first-name", "Ada")
    page.fill("#steward-donate-last-name", "Lovelace")
    email = f"embed-monthly-{time.time_ns()}@example.org"
    page.fill("#steward-donate-email", email)
    fill_card(page, CARD_OK)
    assert axe_violations(page) == []
    page.click(GIVE)
    thanks = page.locator(THANKS)
    expect(thanks).to_contain_text("Your monthly gift is set up", timeout=20_000)
    expect(thanks).to_contain_text(f"${(4000 + added) / 100:.2f} to Health Programs every month")
    [body] = [r.post_data_json for r in host.posts("/donations")]
    assert body["tribute"] == {
        "kind": "memory",
        "name": "Rosalind Franklin",
        "notify_email": "family@example.org",
    }
    assert (body["amount"], body["frequency"], body["cover_fee"]) == (4000, "monthly", True)
    plans = requests.get(
        f"{stack.config.api_url}/staff/recurring",
        headers={"Authorization": f"Bearer {token()}"},
        timeout=10,
    ).json()
    [plan] = [p for p in plans["items"] if p["email"] == email]
    assert (plan["amount"], plan["covered_fee"], plan["status"]) == (4000 + added, added, "active")
    Mailbox(stack).wait_to("family@example.org")  # the person named is told
    page.get_by_role("button", name="Make another gift").click()  # a fresh form, focus at its start
    expect(page.locator(THANKS)).to_be_hidden()
    expect(page.locator(GIVE)).to_have_text("Give")
    expect(page.locator("#steward-donate-tribute-details")).to_be_hidden()
    assert host.focused() == "" and page.evaluate("document.activeElement.textContent") == "$25"


def test_errors_show_at_their_field_and_focus_lands_there(host: Host, tmp_path: Path) -> None:
    page = host.page

    def error_at(field: str, words: str) -> None:
        control = page.locator(f"#steward-{field}")
        message = page.locator(f"#steward-{field}-error")
        expect(message).to_contain_text(words, timeout=10_000)
        expect(control).to_have_attribute("aria-invalid", "true")
        expect(control).to_have_attribute("aria-describedby", re.compile(f"steward-{field}-error"))
        assert host.focused() == f"steward-{field}"

    page.click(GIVE)  # the empty form
    error_at("donate-amount", "Please enter an amount from $1.00 to $100,000.00.")
    for field in ("first-name", "last-name", "email"):
        expect(page.locator(f"#steward-donate-{field}-error")).to_be_visible()
    expect(page.locator(STATUS)).to_contain_text("Please correct the 4 fields marked above.")
    assert axe_violations(page) == []
    host.shoot(tmp_path, "donate-errors")

    page.fill("#steward-donate-amount", "0.50")  # below the minimum
    page.fill("#steward-donate-first-name", "Ada")
    page.fill("#steward-donate-last-name", "Lovelace")
    page.fill("#steward-donate-email", "ada@example.org")
    page.click(GIVE)
    error_at("donate-amount", "from $1.00")
    expect(page.locator("#steward-donate-email-error")).to_be_hidden()

    page.fill("#steward-donate-amount", "25")
    page.fill("#steward-donate-email", "ada.example.org")  # a bad email
    page.click(GIVE)
    error_at("donate-email", "Please enter a valid email address")
    expect(page.locator("#steward-donate-amount")).not_to_have_attribute("aria-invalid", "true")

    page.fill("#steward-signup-email", "nobody@")
    page.click("#steward-signup button[type=submit]")
    error_at("signup-email", "a valid email address")

    page.click("#steward-contact button[type=submit]")
    error_at("contact-name", "Please enter your name.")
    expect(page.locator("#steward-contact-message-error")).to_contain_text("Please enter your message.")
    assert axe_violations(page) == []
    assert host.posts("/donations") == [] and host.posts("/signups") == [] and host.posts("/contact") == []


def tab_to(host: Host, element_id: str, limit: int = 80) -> None:
    for _ in range(limit):
        if host.focused() == element_id:
            return
        host.page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}; focus is on #{host.focused()}")


def test_each_form_with_the_keyboard_alone(host: Host, stack: Stack, token, tmp_path: Path) -> None:
    page, keys = host.page, host.page.keyboard
    time.sleep(2.1)
    email = f"keys-{time.time_ns()}@example.org"
    tab_to(host, "steward-donate-frequency-one-time")
    keys.press("ArrowRight")  # Monthly
    tab_to(host, "steward-donate-amount")
    keys.type("30")
    tab_to(host, "steward-donate-first-name")
    keys.type("Ada")
    keys.press("Tab")
    keys.type("Lovelace")
    keys.press("Tab")
    keys.type(email)
    tab_to(host, "steward-donate-card-number")
    keys.type(CARD_OK)  # the emulator moves on by itself: month, year, code, postal code
    keys.type("12")
    keys.type("34")
    keys.type("123")
    keys.type("30307")
    expect(page.locator(GIVE)).to_have_text("Give $30 monthly")
    tab_to(host, "steward-donate-give")
    host.shoot(tmp_path, "donate-keyboard-focus")
    keys.press("Enter")
    expect(page.locator(THANKS)).to_contain_text("Your monthly gift is set up", timeout=20_000)
    assert host.focused() == "steward-donate-thanks"

    tab_to(host, "steward-signup-email")
    keys.type(f"signup-{email}")
    keys.press("Tab")
    keys.type("Ada")
    keys.press("Tab")
    keys.press("Space")  # the first interest
    tab_to(host, "steward-signup-send")
    keys.press("Enter")
    expect(page.locator("#steward-signup-status")).to_contain_text("Check your inbox", timeout=10_000)
    assert host.focused() == "steward-signup-status"
    Mailbox(stack).wait_to(f"signup-{email}")

    tab_to(host, "steward-contact-name")
    keys.type("Ada Lovelace")
    keys.press("Tab")
    keys.type(f"ask-{email}")
    keys.press("Tab")  # the topic: the host page chose its program
    keys.press("Tab")
    keys.type("Volunteering")
    keys.press("Tab")
    keys.type("How can I help at the clinic?")
    tab_to(host, "steward-contact-send")
    keys.press("Enter")
    expect(page.locator("#steward-contact-status")).to_contain_text("on its way", timeout=10_000)
    assert host.focused() == "steward-contact-status"
    assert axe_violations(page) == []
    host.shoot(tmp_path, "forms-sent")
    Mailbox(stack).wait_to(f"ask-{email}")
    # the message reached the program the host page chose: its staff list shows it
    listed = requests.get(
        f"{stack.config.api_url}/staff/contacts",
        headers={"Authorization": f"Bearer {token('program:health-programs')}"},
        timeout=10,
    ).json()["items"]
    [message] = [m for m in listed if m["email"] == f"ask-{email}"]
    assert message["subject"] == "Volunteering"


@pytest.mark.parametrize("width", [320, 360])
def test_no_sideways_scroll(
    browser: Browser, host_url: str, stack: Stack, width: int, tmp_path: Path
) -> None:
    for url in (host_url, stack.config.web_url + "/"):
        tab = Host(browser, url, width=width, height=800)
        page = tab.page
        page.get_by_label("Give in honor or in memory of someone").check()  # the widest state
        page.click(GIVE)
        expect(page.locator("#steward-donate-amount-error")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width, url
        assert axe_violations(page) == []
        name = "host" if url == host_url else "demo"
        page.screenshot(path=str(tmp_path / f"{name}-errors-{width}.png"), full_page=True)
        tab.close()


def test_targets_are_44px_and_focus_is_visible(host: Host) -> None:
    page = host.page
    small = page.evaluate(
        """() => Array.from(document.querySelectorAll(
            '.steward-form button, .steward-form input:not([type=checkbox]):not([type=radio]), '
            + '.steward-form select, .steward-choice'
        )).filter((e) => e.offsetParent && !e.closest('.steward-hp') && e.getBoundingClientRect().height < 44)
          .map((e) => e.id || e.textContent)"""
    )
    assert small == []
    page.locator("#steward-donate-first-name").focus()
    outline = page.locator("#steward-donate-first-name").evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"


@pytest.mark.parametrize("passed", [True, False])
def test_3d_secure_on_the_host_page(host: Host, passed: bool) -> None:
    page = host.page
    time.sleep(2.1)
    page.get_by_role("button", name="$25", exact=True).click()
    page.fill("#steward-donate-first-name", "Ada")
    page.fill("#steward-donate-last-name", "Lovelace")
    page.fill("#steward-donate-email", f"threeds-{time.time_ns()}@example.org")
    fill_card(page, CARD_3DS)
    page.click(GIVE)
    # once when the card is saved, once when the payment is confirmed
    page.get_by_role("button", name="Complete authentication").click(timeout=15_000)
    page.get_by_role("button", name="Complete authentication" if passed else "Fail authentication").click(
        timeout=15_000
    )
    if passed:
        expect(page.locator(THANKS)).to_contain_text("Your gift of $25.00", timeout=20_000)
        return
    status = page.locator(STATUS)
    expect(status).to_contain_text("another card", timeout=20_000)
    expect(status).to_have_class(re.compile(r"\bsteward-status-error\b"))
    assert host.focused() == "steward-donate-status"
    expect(page.get_by_role("button", name="Complete authentication")).to_have_count(0)
    expect(page.locator(GIVE)).to_be_enabled()
