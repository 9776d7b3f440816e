"""Email signup and the contact form through the page, and the confirmation link opened
in a real browser (its script confirms without a second click)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from devstack.stack import Stack
from tests.helpers import Mailbox, link

pytestmark = pytest.mark.browser


def test_signup_then_the_link_confirms_in_the_browser(page: Page, stack: Stack) -> None:
    email = f"page-{uuid.uuid4().hex[:8]}@example.org"
    time.sleep(2.1)  # a person takes longer than the time trap to fill the form
    page.fill("#signup-email", email)
    page.fill("#signup-name", "Nia")
    page.check("#interests input[value=health]")
    page.click("#signup button[type=submit]")
    expect(page.locator("#signup-message")).to_contain_text("Check your inbox", timeout=10_000)

    confirmation = Mailbox(stack).wait_to(email)[0]
    page.goto(link(confirmation, "/signups/confirm"))
    expect(page.locator("h1")).to_have_text("You are subscribed", timeout=10_000)


def test_contact_form_sends(page: Page, stack: Stack) -> None:
    email = f"asker-{uuid.uuid4().hex[:8]}@example.org"
    time.sleep(2.1)
    page.fill("#contact-name", "Kofi Mensah")
    page.fill("#contact-email", email)
    page.select_option("#contact-topic", "peace-programs")
    page.fill("#contact-subject", "Volunteering")
    page.fill("#contact-message", "How can I help?")
    page.click("#contact button[type=submit]")
    expect(page.locator("#contact-message-status")).to_contain_text("on its way", timeout=10_000)
    Mailbox(stack).wait_to(email)


def test_what_the_page_promises_is_what_is_sent(page: Page, stack: Stack) -> None:
    # The visitor's acknowledgement does not copy the message. (The donor's thank-you promises
    # a receipt, and test_donate_page checks that it arrives.)
    script = requests.get(stack.config.web_url + "/donate.js", timeout=10).text
    script += requests.get(stack.config.web_url + "/forms.js", timeout=10).text
    assert "check your email" not in script.lower()
    assert "sent you a copy" not in script
    # A confirmed address gets no link (the answer is the same either way), and the page says so.
    assert "none is sent if you are already subscribed" in script


def test_errors_read_in_plain_words(page: Page) -> None:
    page.click("#give")
    gift = page.locator("#message")
    expect(gift).to_contain_text("Please enter an amount from $1.00 to $100,000.00", timeout=10_000)
    expect(gift).to_contain_text("your first name")
    expect(gift).to_contain_text("a valid email address")
    for internal in ("request is not valid", "first_name", "String should", "Value error", "@-sign"):
        expect(gift).not_to_contain_text(internal)
    page.click("#contact button[type=submit]")
    status = page.locator("#contact-message-status")
    expect(status).to_contain_text("your message", timeout=10_000)
    expect(status).not_to_contain_text("String should")
    expect(status).to_have_css("color", "rgb(164, 0, 0)")


def test_a_phone_wide_page_does_not_scroll_sideways(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    phone = context.new_page()
    phone.goto(stack.config.web_url + "/index.html")
    expect(phone.locator("#give")).to_be_enabled(timeout=15_000)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
