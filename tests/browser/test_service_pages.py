"""The pages the service renders, in the forms' look: signup confirmation, unsubscribe with a
working "Sign up again", a donor's gift and receipt, and an error page with a way back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from devstack.stack import Stack
from tests.browser.conftest import GIVE, axe_violations
from tests.helpers import Api, Mailbox, give, link

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)


def looks_right(page: Page, folder: Path, name: str, org: str = "Steward Demo Nonprofit") -> None:
    """Branded, accessible, no sideways scroll at 360 px; screenshots at 1280 and 390 px."""
    expect(page.get_by_role("banner")).to_contain_text(org)
    expect(page.get_by_role("contentinfo")).to_contain_text("453 Freedom Parkway")
    assert axe_violations(page) == []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    page.set_viewport_size({"width": 1280, "height": 900})


def test_signup_confirm_unsubscribe_and_sign_up_again(browser: Browser, stack: Stack, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(stack.config.web_url + "/")
    expect(page.locator(GIVE)).to_be_enabled(timeout=15_000)
    email = f"again-{time.time_ns()}@example.org"
    time.sleep(2.1)
    page.fill("#steward-signup-email", email)
    page.click("#steward-signup-send")
    expect(page.locator("#steward-signup-status")).to_contain_text("Check your inbox", timeout=10_000)
    confirmation = Mailbox(stack).wait_to(email)[0]

    page.goto(link(confirmation, "/signups/confirm"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed", timeout=10_000)
    looks_right(page, tmp_path, "subscribed")

    page.goto(confirmation["List-Unsubscribe"].strip("<>"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe")
    looks_right(page, tmp_path, "unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    looks_right(page, tmp_path, "unsubscribed")

    page.get_by_role("link", name="Sign up again").click()
    expect(page.locator("#steward-signup-email")).to_be_visible(timeout=15_000)
    assert page.url.startswith(stack.config.web_url)
    time.sleep(2.1)
    page.fill("#steward-signup-email", email)
    page.click("#steward-signup-send")
    expect(page.locator("#steward-signup-status")).to_contain_text("Check your inbox", timeout=10_000)
    assert len(Mailbox(stack).wait_to(email, count=2)) == 2  # a new confirmation link
    context.close()


def test_a_donor_page_and_an_error_page(browser: Browser, stack: Stack, tmp_path: Path) -> None:
    api = Api(stack)
    email = f"look-{time.time_ns()}@example.org"
    form_token = api.get("/config").json()["form_token"]
    time.sleep(2.1)  # older than the time trap, as a person's form is
    donation_id, confirmed = give(api, stack, email=email, form_token=form_token)
    assert confirmed.json()["status"] == "succeeded"
    receipt = Mailbox(stack).wait_to(email)[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(link(receipt, f"/donor/gifts/{donation_id}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your gift")
    looks_right(page, tmp_path, "gift")
    page.get_by_role("link", name="Your receipt").click()
    expect(page.locator("body")).to_contain_text("12-3456789")
    looks_right(page, tmp_path, "receipt")

    page.goto(f"{stack.config.api_url}/donor/gifts/{donation_id}?token=tampered")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("This link did not work")
    expect(page.locator("main")).to_contain_text("This link is not valid, or it has expired.")
    back = page.get_by_role("link", name="Back to Steward Demo Nonprofit")
    assert back.get_attribute("href") == stack.config.web_url + "/"
    looks_right(page, tmp_path, "link-error")
    answer = requests.get(f"{stack.config.api_url}/donor/gifts/{donation_id}?token=tampered", timeout=10)
    assert answer.status_code == 403
    context.close()
