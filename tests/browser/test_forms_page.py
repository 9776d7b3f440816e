"""Email signup and the contact form through the page, and the confirmation link opened
in a real browser (its script confirms without a second click)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from devstack.stack import Stack
from tests.browser.conftest import GIVE
from tests.helpers import Mailbox, link

pytestmark = pytest.mark.browser


def test_signup_then_the_link_confirms_in_the_browser(page: Page, stack: Stack) -> None:
    email = f"page-{uuid.uuid4().hex[:8]}@example.org"
    time.sleep(2.1)  # a person takes longer than the time trap to fill the form
    page.fill("#steward-signup-email", email)
    page.fill("#steward-signup-name", "Nia")
    page.check("#steward-signup-interests input[value=health]")
    page.click("#steward-signup button[type=submit]")
    expect(page.locator("#steward-signup-status")).to_contain_text("Check your inbox", timeout=10_000)

    confirmation = Mailbox(stack).wait_to(email)[0]
    page.goto(link(confirmation, "/signups/confirm"))
    expect(page.locator("h1")).to_have_text("You are subscribed", timeout=10_000)


def test_contact_form_sends(page: Page, stack: Stack) -> None:
    email = f"asker-{uuid.uuid4().hex[:8]}@example.org"
    time.sleep(2.1)
    page.fill("#steward-contact-name", "Kofi Mensah")
    page.fill("#steward-contact-email", email)
    page.select_option("#steward-contact-topic", "peace-programs")
    page.fill("#steward-contact-subject", "Volunteering")
    page.fill("#steward-contact-message", "How can I help?")
    page.click("#steward-contact button[type=submit]")
    expect(page.locator("#steward-contact-status")).to_contain_text("on its way", timeout=10_000)
    Mailbox(stack).wait_to(email)


def test_what_the_page_promises_is_what_is_sent(page: Page, stack: Stack) -> None:
    # The visitor's acknowledgement does not copy the message. (The donor's thank-you promises
    # a receipt, and test_donate_page checks that it arrives.)
    script = requests.get(stack.config.web_url + "/embed.js", timeout=10).text
    assert "check your email" not in script.lower()
    assert "sent you a copy" not in script
    # A confirmed address gets no link (the answer is the same either way), and the page says so.
    assert "none is sent if you are already subscribed" in script


INTERNAL = ("request is not valid", "first_name", "String should", "Value error", "@-sign", "special-use")


def test_errors_read_in_plain_words(page: Page) -> None:
    page.click(GIVE)
    form = page.locator("#steward-donate")
    expect(page.locator("#steward-donate-amount-error")).to_contain_text(
        "Please enter an amount from $1.00 to $100,000.00", timeout=10_000
    )
    expect(page.locator("#steward-donate-first-name-error")).to_contain_text("your first name")
    expect(page.locator("#steward-donate-email-error")).to_contain_text("a valid email address")
    for internal in INTERNAL:
        expect(form).not_to_contain_text(internal)
    # what only the server refuses (a reserved domain) reads the same way, at its own field
    time.sleep(2.1)
    page.get_by_role("button", name="$50", exact=True).click()
    page.fill("#steward-donate-first-name", "Grace")
    page.fill("#steward-donate-last-name", "Hopper")
    page.fill("#steward-donate-email", "grace@example.invalid")
    page.click(GIVE)
    expect(page.locator("#steward-donate-email-error")).to_contain_text(
        "a valid email address", timeout=10_000
    )
    expect(page.locator("#steward-donate-amount-error")).to_be_hidden()
    for internal in INTERNAL:
        expect(form).not_to_contain_text(internal)
    page.click("#steward-contact button[type=submit]")
    error = page.locator("#steward-contact-message-error")
    expect(error).to_contain_text("your message", timeout=10_000)
    expect(error).not_to_contain_text("String should")
    expect(error).to_have_css("color", "rgb(164, 0, 0)")


def test_a_phone_wide_page_does_not_scroll_sideways(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    phone = context.new_page()
    phone.goto(stack.config.web_url + "/index.html")
    expect(phone.locator(GIVE)).to_be_enabled(timeout=15_000)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
