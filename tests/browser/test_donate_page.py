"""A donor gives through the demo page in headless Chromium, with localstripe's Stripe.js."""

from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.browser.conftest import GIVE, fill_card
from tests.helpers import (
    CARD_3DS,
    CARD_DECLINED_AT_ATTACH,
    CARD_DECLINED_AT_CHARGE,
    CARD_OK,
    Mailbox,
    plain_text,
)

pytestmark = pytest.mark.browser
THANKS = "#steward-donate-thanks"
STATUS = "#steward-donate-status"


def fill_gift(page: Page, card: str, email: str) -> None:
    time.sleep(2.1)  # a person takes longer than the time trap to fill the form
    page.get_by_role("button", name="$50", exact=True).click()
    page.select_option("#steward-donate-fund", "health-programs")
    page.fill("#steward-donate-first-name", "Grace")
    page.fill("#steward-donate-last-name", "Hopper")
    page.fill("#steward-donate-email", email)
    fill_card(page, card)


def test_a_donor_gives_50_dollars(page: Page, stack: Stack, token) -> None:
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(f"{r.method} {r.url}"))
    fill_gift(page, CARD_OK, "grace@example.org")
    page.click(GIVE)
    expect(page.locator(THANKS)).to_contain_text("Thank you", timeout=20_000)

    # The browser made the calls production makes: our API, then Stripe.js's SetupIntent confirm.
    assert any("/v1/setup_intents/" in r and r.endswith("/confirm") for r in requests_seen)
    created = [r for r in requests_seen if r.startswith("POST") and r.endswith("/donations")]
    assert created
    confirm = [r for r in requests_seen if r.startswith("POST") and "/donations/" in r]
    donation_id = confirm[0].split("/donations/")[1].split("/")[0]
    gift = requests.get(
        f"{stack.config.api_url}/staff/donations/{donation_id}",
        timeout=10,
        headers={"Authorization": f"Bearer {token()}"},
    ).json()
    assert gift["status"] == "succeeded"
    assert gift["amount"] == 5000 and gift["fund"] == "health-programs"
    assert "4242" not in str(gift)  # no card data stored


def test_a_declined_card_shows_the_error(page: Page) -> None:
    fill_gift(page, CARD_DECLINED_AT_ATTACH, "declined@example.org")
    page.click(GIVE)
    expect(page.locator(STATUS)).to_contain_text("declined", timeout=20_000)
    expect(page.locator(STATUS)).to_have_class(re.compile(r"\bsteward-status-error\b"))


def test_a_card_that_asks_for_3d_secure_completes_after_authentication(page: Page) -> None:
    fill_gift(page, CARD_3DS, "threeds@example.org")
    page.click(GIVE)
    # once when the card is saved, once when the payment is confirmed
    for _ in range(2):
        page.get_by_role("button", name="Complete authentication").click(timeout=15_000)
    expect(page.locator(THANKS)).to_contain_text("Thank you", timeout=20_000)


def test_a_card_declined_at_the_charge_says_why(page: Page, stack: Stack, token) -> None:
    fill_gift(page, CARD_DECLINED_AT_CHARGE, "charge-declined@example.org")
    page.click(GIVE)
    expect(page.locator(STATUS)).to_contain_text("declined", timeout=20_000)
    expect(page.locator(STATUS)).to_have_class(re.compile(r"\bsteward-status-error\b"))


def test_a_donor_gives_monthly_from_the_demo_page(page: Page, stack: Stack, token, tmp_path) -> None:
    fill_gift(page, CARD_OK, "monthly-page@example.org")
    page.get_by_label("Monthly").check()
    page.get_by_label(re.compile("to cover the card fee")).check()
    page.screenshot(path=str(tmp_path / "monthly-desktop.png"), full_page=True)
    page.click(GIVE)
    message = page.locator(THANKS)
    expect(message).to_contain_text("Your monthly gift is set up", timeout=20_000)
    expect(message).to_contain_text("monthly-page@example.org")
    headers = {"Authorization": f"Bearer {token()}"}
    plans = requests.get(f"{stack.config.api_url}/staff/recurring", timeout=10, headers=headers).json()
    mine = [p for p in plans["items"] if p["email"] == "monthly-page@example.org"]
    assert len(mine) == 1 and mine[0]["status"] == "active" and mine[0]["frequency"] == "monthly"
    assert mine[0]["amount"] > 5000 and mine[0]["covered_fee"] == mine[0]["amount"] - 5000
    receipt = Mailbox(stack).wait_to("monthly-page@example.org")[0]  # the promised receipt
    assert "monthly gift" in plain_text(receipt) and mine[0]["id"] in plain_text(receipt)
    page.set_viewport_size({"width": 360, "height": 800})
    page.screenshot(path=str(tmp_path / "monthly-phone.png"), full_page=True)
