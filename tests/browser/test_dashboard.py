"""The finance dashboard at /staff/, in headless Chromium against the whole local stack: sign
in, totals and the chart, filter the gifts, open one and refund it, export and download the
CSV, a payout reconciled; the keyboard alone; axe-core; screenshots at 1280 and 390 px (in
.local/screenshots/dashboard/)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, Route, expect

from devstack import tokens
from devstack.stack import ROOT, Stack, free_ports
from tests.browser.conftest import axe_violations
from tests.helpers import GIFT, Api, give, wait_for

SHOTS = ROOT / ".local" / "screenshots" / "dashboard"
WIDTHS = {"desktop": 1280, "phone": 390}
STRIPE_AUTH = ("sk_test_steward_local", "")


def shoot(page: Page, name: str) -> None:
    """The page as it is, at both widths (full length), checked by axe-core at each, then back
    to the width it had."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1280, "height": 900}
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(250)  # the chart redraws on resize
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            f"{name} scrolls sideways at {width} px"
        )
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


@pytest.fixture
def staff_page(browser: Browser, stack: Stack) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(stack.config.web_url + "/staff/")
    yield page, problems
    context.close()


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    """The API, with a form token old enough for the time trap on every gift sent."""
    api = Api(stack)
    GIFT["form_token"] = api.get("/config").json()["form_token"]
    time.sleep(2.1)
    return api


def sign_in(page: Page, token: str) -> None:
    page.get_by_label("Staff token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("navigation", name="Sections")).to_be_visible()


def test_finance_signs_in_reads_the_totals_refunds_a_gift_exports_and_reconciles(
    staff_page: tuple[Page, list[str]], api: Api, stack: Stack, token: Any
) -> None:
    page, problems = staff_page
    email = f"dash-{time.time_ns()}@example.org"
    gift_id, answer = give(api, stack, email=email, amount=5000, first_name="Ada", last_name="Okafor")
    assert answer.json()["status"] == "succeeded", answer.text
    other_id, _ = give(api, stack, amount=2500)
    payout = requests.post(
        f"{stack.config.stripe_url}/_config/payouts", data={"currency": "usd"}, auth=STRIPE_AUTH, timeout=10
    ).json()
    staff = token("finance")
    today = time.strftime("%Y-%m-%d", time.gmtime())

    def counted() -> bool:
        rows = api.get("/staff/reports/totals", staff, **{"from": today, "to": today}).json()["rows"]
        return sum(r["count"] for r in rows) >= 2

    wait_for(counted, timeout=30)

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert axe_violations(page) == []
    shoot(page, "sign-in")
    page.get_by_label("Staff token").fill("not-a-token")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    sign_in(page, staff)

    # today's, this month's and this year's totals, and the chart
    cards = page.locator("#cards")
    expect(cards.get_by_role("heading", name="Today")).to_be_visible()
    expect(cards.locator("article").first).to_contain_text("$")
    expect(page.locator("#chart canvas")).to_be_visible()
    expect(page.locator("#chart-summary")).to_contain_text("gross $")
    assert axe_violations(page) == []
    shoot(page, "overview")

    # filter the gifts by the donor's email: one gift; open it
    page.get_by_role("link", name="Gifts").click()
    expect(page.get_by_role("heading", name="Gifts", exact=True)).to_be_focused()
    filters = page.locator("#gift-filters")
    filters.get_by_label("Donor email").fill(email)
    filters.get_by_label("Status").select_option("paid")
    filters.get_by_role("button", name="Find gifts").click()
    expect(page.locator("#gifts-message")).to_have_text("1 gifts shown.")
    rows = page.locator("#gift-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("$50.00")
    filters.get_by_label("Amount from").fill("abc")
    filters.get_by_role("button", name="Find gifts").click()
    expect(filters.get_by_label("Amount from")).to_have_attribute("aria-invalid", "true")
    expect(filters.get_by_label("Amount from")).to_be_focused()
    filters.get_by_label("Amount from").fill("")
    assert axe_violations(page) == []
    shoot(page, "gifts")

    rows.first.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Gift of $50.00 from Ada Okafor")).to_be_visible()
    expect(dialog.locator(".history li").first).to_contain_text("donor")
    dialog.get_by_label("Amount (dollars)").fill("12.50")
    dialog.get_by_label("Reason").select_option("requested_by_customer")
    dialog.get_by_role("button", name="Refund…").click()
    confirm = dialog.get_by_role("button", name="Confirm refund of $12.50")
    expect(confirm).to_be_focused()
    assert axe_violations(page) == []
    confirm.click()
    expect(dialog.locator(".notice")).to_have_text("Refund of $12.50 made.", timeout=20_000)
    expect(dialog).to_contain_text("Partially refunded")
    expect(dialog.get_by_role("table", name="Refunds")).to_contain_text("$12.50")
    expect(dialog.locator(".history li").last).to_contain_text("local-staff")
    shoot(page, "gift")
    refunds = api.get(f"/staff/donations/{gift_id}", staff).json()["refunds"]
    assert [r["amount"] for r in refunds] == [1250]
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # export the filtered gifts, watch it run, download the CSV
    page.locator("#gift-filters").get_by_label("Donor email").fill(email)
    page.get_by_role("button", name="Export these as CSV").click()
    expect(page.get_by_role("heading", name="Exports")).to_be_visible()
    link = page.get_by_role("link", name="Download CSV (1 gifts)")
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        link.click()
    sheet = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert [row["email"] for row in sheet] == [email]
    assert axe_violations(page) == []
    shoot(page, "exports")

    # the payout, its lines matched to the two gifts
    page.get_by_role("link", name="Payouts").click()
    page.get_by_role("button", name="Reconcile").click()
    entry = page.locator("details.payout", has_text=payout["id"])
    expect(entry).to_be_visible(timeout=20_000)
    entry.locator("summary").click()
    for donation in (gift_id, other_id):
        expect(entry.get_by_role("row", name=donation)).to_contain_text("Matched")
    with page.expect_download() as sheet_download:
        page.get_by_role("button", name="Download CSV").click()
    assert payout["id"] in Path(sheet_download.value.path()).read_text()
    assert axe_violations(page) == []
    shoot(page, "payouts")

    page.get_by_role("link", name="Plans").click()
    expect(page.locator("#plans-message")).not_to_have_text("Looking…")
    assert axe_violations(page) == []
    shoot(page, "plans")
    assert [p for p in problems if "status of 401" not in p] == []  # the bad token's 401 aside


def test_the_dashboard_works_from_the_keyboard_alone(
    staff_page: tuple[Page, list[str]], api: Api, stack: Stack, token: Any
) -> None:
    page, problems = staff_page
    give(api, stack, amount=3000)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Staff token")).to_be_focused()
    page.keyboard.insert_text(token("finance"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav).to_be_visible()
    expect(page.get_by_role("heading", name="Overview")).to_be_focused()
    gifts = nav.get_by_role("link", name="Gifts")
    for _ in range(8):  # back through Sign out, Exports, Payouts, Plans
        page.keyboard.press("Shift+Tab")
        if gifts.evaluate("link => link === document.activeElement"):
            break
    expect(gifts).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Gifts", exact=True)).to_be_focused()
    expect(page.locator("#gift-table tbody tr").first).to_be_visible(timeout=15_000)
    opener = page.locator("#gift-table tbody tr").first.get_by_role("button")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Gift of")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert problems == []


def test_a_token_without_the_finance_role_is_turned_away(
    staff_page: tuple[Page, list[str]], token: Any
) -> None:
    page, _ = staff_page
    page.get_by_label("Staff token").fill(token("communications"))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("That account has no finance role.")
    expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()


COGNITO = "auth.steward.test"


@pytest.fixture
def cognito_web(stack: Stack) -> Iterator[str]:
    """A second web server, set up for Cognito's hosted UI as on AWS, in front of the same API."""
    port = free_ports(1)[0]
    env = {**os.environ, "STEWARD_COGNITO_DOMAIN": COGNITO, "STEWARD_COGNITO_CLIENT_ID": tokens.AUDIENCE}
    command = [
        sys.executable,
        "-m",
        "devstack.web_server",
        "--port",
        str(port),
        "--api-url",
        stack.config.api_url,
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(url + "/staff/", timeout=2).raise_for_status()
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline and server.poll() is None, "the web server did not start"
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_signing_in_through_the_cognito_hosted_ui_uses_pkce(
    browser: Browser, stack: Stack, cognito_web: str, token: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    seen: dict[str, str] = {}

    def hosted_ui(route: Route) -> None:
        request = route.request
        url = urllib.parse.urlsplit(request.url)
        if url.path == "/oauth2/authorize":
            query = dict(urllib.parse.parse_qsl(url.query))
            seen.update(query)
            back = (
                query["redirect_uri"]
                + "?"
                + urllib.parse.urlencode({"code": "the-code", "state": query["state"]})
            )
            return route.fulfill(status=302, headers={"Location": back})
        form = dict(urllib.parse.parse_qsl(request.post_data or ""))
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        cors = {"Access-Control-Allow-Origin": cognito_web}
        if form.get("code") != "the-code" or challenge != seen.get("code_challenge"):
            return route.fulfill(status=400, headers=cors, json={"error": "invalid_grant"})
        route.fulfill(
            status=200, headers=cors, json={"access_token": token("finance"), "token_type": "Bearer"}
        )

    context.route(f"https://{COGNITO}/**", hosted_ui)
    page.goto(cognito_web + "/staff/")
    page.get_by_role("button", name="Sign in with your organization").click()
    expect(page.get_by_role("navigation", name="Sections")).to_be_visible(timeout=15_000)
    assert seen["client_id"] == tokens.AUDIENCE and seen["code_challenge_method"] == "S256"
    assert seen["redirect_uri"] == cognito_web + "/staff/"
    assert "code=" not in page.url  # the code is not left in the address bar or history
    context.close()


def test_a_donors_text_is_shown_as_text_never_as_markup(
    staff_page: tuple[Page, list[str]], api: Api, stack: Stack, token: Any
) -> None:
    page, problems = staff_page
    email = f"markup-{time.time_ns()}@example.org"
    hostile = '<img src=x onerror="window.owned=1">'
    give(api, stack, email=email, campaign=hostile, last_name="O'Brien <b>")
    sign_in(page, token("finance"))
    page.get_by_role("link", name="Gifts").click()
    page.locator("#gift-filters").get_by_label("Donor email").fill(email)
    page.get_by_role("button", name="Find gifts").click()
    page.locator("#gift-table tbody tr").first.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(hostile)
    expect(dialog.locator("img")).to_have_count(0)
    assert page.evaluate("window.owned") is None
    assert problems == []


def test_signing_out_or_a_token_the_api_refuses_leaves_nothing_on_the_page(
    staff_page: tuple[Page, list[str]], api: Api, stack: Stack, token: Any
) -> None:
    page, _ = staff_page
    give(api, stack, amount=1500)
    sign_in(page, token("finance"))
    page.get_by_role("link", name="Gifts").click()
    expect(page.locator("#gift-table tbody tr").first).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_have_text("You have signed out.")
    expect(page.get_by_label("Staff token")).to_be_focused()
    expect(page.locator("#gift-table tbody tr")).to_have_count(0)
    assert page.evaluate("sessionStorage.length") == 0

    sign_in(page, token("finance"))
    page.evaluate("sessionStorage.setItem('steward.staff.token', 'eyJ.not.valid')")
    page.get_by_role("link", name="Gifts").click()
    expect(page.get_by_role("alert")).to_have_text("Your sign-in has ended. Please sign in again.")
    expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()
