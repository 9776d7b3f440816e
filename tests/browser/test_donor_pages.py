"""The pages a donor opens from a receipt, in headless Chromium: the gift, the receipt, and
changing a monthly gift's card with Stripe.js under the page's own CSP."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from devstack.stack import Stack
from tests.browser.conftest import axe_violations
from tests.helpers import CARD_OK, Api, Mailbox, link
from tests.integration.test_recurring import monthly

pytestmark = pytest.mark.browser


def test_a_donor_changes_the_card_of_a_monthly_gift(browser: Browser, stack: Stack, tmp_path: Any) -> None:
    api = Api(stack)
    form_token = api.get("/config").json()["form_token"]
    time.sleep(2.1)  # older than the time trap, as a person's form is
    email = f"card-page-{time.time_ns()}@example.org"
    plan_id, first = monthly(api, stack, email, form_token=form_token)
    assert first["status"] == "succeeded"
    receipt = Mailbox(stack).wait_to(email)[0]
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(link(receipt, f"/donor/gifts/{plan_id}"))
    expect(page.get_by_role("heading")).to_contain_text("Your monthly gift")
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "gift-desktop.png"), full_page=True)
    page.get_by_role("link", name="Your receipt").click()
    expect(page.locator("body")).to_contain_text("12-3456789")
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "receipt-desktop.png"), full_page=True)
    page.goto(link(receipt, f"/donor/recurring/{plan_id}/cancel"))  # a GET changes nothing
    expect(page.get_by_role("button", name="Cancel my monthly gift")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "cancel-desktop.png"), full_page=True)
    page.goto(link(receipt, f"/donor/recurring/{plan_id}/card"))
    expect(page.get_by_role("heading")).to_contain_text("Update your card")
    expect(page.get_by_role("button", name="Save my new card")).to_be_visible()
    assert axe_violations(page) == []
    page.fill("#card input[placeholder=number]", CARD_OK)
    page.fill("#card input[placeholder=exp_month]", "11")
    page.fill("#card input[placeholder=exp_year]", "33")
    page.fill("#card input[placeholder=cvc]", "321")
    page.fill("#card input[placeholder=postal_code]", "30307")
    page.get_by_role("button", name="Save my new card").click()
    expect(page.locator("#status")).to_contain_text("Your new card is saved", timeout=20_000)
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 360, "height": 780})
    page.screenshot(path=str(tmp_path / "card-phone.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
