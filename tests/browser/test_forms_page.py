"""Email signup and the contact form through the page, and the confirmation link opened
in a real browser (its script confirms without a second click)."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import Page, expect

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
