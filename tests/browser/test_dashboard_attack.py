"""The finance dashboard as a careless user or an attacker meets it: a crafted section in the
address, a token pasted with line breaks, amounts written the European way, a donor's name
of any length, an export whose filters the API refuses."""

from __future__ import annotations

import re
import time
import urllib.parse
from typing import Any

from playwright.sync_api import Browser, Page, Route, expect

from devstack.stack import Stack
from tests.browser import test_dashboard as dashboard
from tests.browser.conftest import axe_violations
from tests.browser.test_dashboard import shoot, sign_in
from tests.helpers import Api, give

staff_page = dashboard.staff_page  # the dashboard test's fixtures, shared
api = dashboard.api

Staffed = tuple[Page, list[str]]


def visible_sections(page: Page) -> list[str]:
    return [str(s.get_attribute("id")) for s in page.locator("section.view:visible").all()]


def test_a_crafted_section_in_the_address_keeps_the_dashboard(
    staff_page: Staffed, stack: Stack, token: Any
) -> None:
    page, problems = staff_page
    sign_in(page, token("finance"))
    expect(page.get_by_role("heading", name="Overview")).to_be_focused()
    for name in ("constructor", "__proto__", "toString", "hasOwnProperty"):
        page.evaluate("name => { location.hash = '#' + name; }", name)
        page.wait_for_timeout(100)
        assert visible_sections(page) == ["overview"], name
    page.goto(stack.config.web_url + "/staff/#constructor")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert visible_sections(page) == ["overview"]
    assert problems == []


def test_a_token_pasted_with_line_breaks_signs_in_and_a_mangled_one_is_named(
    staff_page: Staffed, token: Any
) -> None:
    page, problems = staff_page
    field = page.get_by_label("Staff token")
    field.fill("\u201c" + token("finance") + "\u201d")  # copied with the quotes around it
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "That is not a staff token: it holds characters a token never has."
    )
    expect(field).to_be_focused()
    assert axe_violations(page) == []
    jwt = token("finance")
    field.fill("Bearer " + "\n".join(jwt[i : i + 60] for i in range(0, len(jwt), 60)) + "\n")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("navigation", name="Sections")).to_be_visible()
    assert problems == []


def test_an_amount_with_a_decimal_comma_is_refused_not_read_as_a_hundred_times_more(
    staff_page: Staffed,
    api: Api,
    stack: Stack,
    token: Any,
) -> None:
    page, problems = staff_page
    email = f"comma-{time.time_ns()}@example.org"
    give(api, stack, email=email, amount=200000)
    sign_in(page, token("finance"))
    read = {text: page.evaluate("t => Staff.toMinor(t)", text) for text in ("1,250.50", "$1,250", "12.5")}
    assert read == {"1,250.50": 125050, "$1,250": 125000, "12.5": 1250}
    for text in ("12,50", ",5", "1,2,3", "1,25", "12,500,00"):
        assert page.evaluate("t => Number.isNaN(Staff.toMinor(t))", text), text

    page.get_by_role("link", name="Gifts").click()
    filters = page.locator("#gift-filters")
    filters.get_by_label("Donor email").fill(email)
    filters.get_by_label("Amount to").fill("12,50")
    filters.get_by_role("button", name="Find gifts").click()
    expect(filters.get_by_label("Amount to")).to_have_attribute("aria-invalid", "true")
    filters.get_by_label("Amount to").fill("")
    filters.get_by_role("button", name="Find gifts").click()
    page.locator("#gift-table tbody tr").first.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Gift of $2,000.00")).to_be_visible()
    dialog.get_by_label("Amount (dollars)").fill("12,50")
    dialog.get_by_role("button", name="Refund…").click()
    expect(dialog.locator("#refund-message")).to_have_text("Write an amount from 0.01 to 2000.00.")
    expect(dialog.get_by_role("button", name="Confirm refund of $1,250.00")).to_have_count(0)
    dialog.get_by_label("Amount (dollars)").fill("1,250.50")
    dialog.get_by_role("button", name="Refund…").click()
    expect(dialog.get_by_role("button", name="Confirm refund of $1,250.50")).to_be_visible()
    assert axe_violations(page) == []
    assert problems == []


def test_a_donors_name_of_any_length_stays_inside_the_dialog(
    staff_page: Staffed,
    api: Api,
    stack: Stack,
    token: Any,
) -> None:
    page, problems = staff_page
    email = f"{'x' * 50}-{time.time_ns()}@example.org"
    give(api, stack, email=email, first_name="W" * 100, last_name="Averyverylongname" * 5, campaign="C" * 100)
    sign_in(page, token("finance"))
    page.get_by_role("link", name="Gifts").click()
    page.locator("#gift-filters").get_by_label("Donor email").fill(email)
    page.get_by_role("button", name="Find gifts").click()
    expect(page.locator("#gift-table tbody tr")).to_have_count(1)
    page.locator("#gift-table tbody tr").first.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Gift of $25.00 from WWW")).to_be_visible()
    for width in (1280, 390, 320):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        assert dialog.evaluate("box => box.scrollWidth <= box.clientWidth"), (
            f"the dialog scrolls at {width} px"
        )
        title, close = (dialog.locator(s).bounding_box() for s in ("#detail-title", "#detail-close"))
        box = dialog.bounding_box()
        assert title and close and box
        assert title["x"] + title["width"] <= close["x"], f"the title runs under Close at {width} px"
        assert close["x"] + close["width"] <= box["x"] + box["width"], f"Close is cut off at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})
    assert axe_violations(page) == []
    shoot(page, "attack-long-name")
    assert problems == []


def test_an_export_the_api_refuses_is_shown_at_the_filter_to_fix(staff_page: Staffed, token: Any) -> None:
    page, _ = staff_page
    held: list[Route] = []  # the first list of gifts answers only after the export was refused
    listing = re.compile(r".*/staff/donations\?.*")
    page.route(listing, lambda route: route.continue_() if held else held.append(route))
    sign_in(page, token("finance"))
    page.get_by_role("link", name="Gifts").click()
    filters = page.locator("#gift-filters")
    filters.get_by_label("Amount from").fill("50")
    filters.get_by_label("Amount to").fill("10")
    filters.get_by_role("button", name="Export these as CSV").click()
    expect(filters.get_by_label("Amount to")).to_have_attribute("aria-invalid", "true")
    expect(filters.get_by_label("Amount to")).to_be_focused()
    expect(page.locator("#gifts-message")).to_contain_text("must not be under min_amount")
    assert len(held) == 1
    with page.expect_response(listing):
        held[0].continue_()
    page.wait_for_timeout(200)  # the late list is shown; the refusal stays where it was said
    expect(page.locator("#gifts-message")).to_contain_text("must not be under min_amount")
    assert page.url.endswith("#gifts") and visible_sections(page) == ["gifts"]
    expect(page.locator("#export-list li")).to_have_count(0)
    assert axe_violations(page) == []
    shoot(page, "attack-export-refused")


def test_an_export_started_before_the_list_answers_leaves_the_list_s_count_to_be_said(
    staff_page: Staffed, token: Any
) -> None:
    page, _ = staff_page
    held: list[Route] = []
    listing = re.compile(r".*/staff/donations\?.*")
    page.route(listing, lambda route: route.continue_() if held else held.append(route))
    sign_in(page, token("finance"))
    page.get_by_role("link", name="Gifts").click()
    page.locator("#gift-filters").get_by_role("button", name="Export these as CSV").click()
    expect(page.get_by_role("heading", name="Exports")).to_be_visible()
    expect(page.locator("#gifts-message")).to_have_text("Looking…")  # the list has not answered
    assert len(held) == 1
    with page.expect_response(listing):
        held[0].continue_()
    expect(page.locator("#gifts-message")).to_have_text(re.compile(r"gifts? shown|No gift matches"))


def test_enter_pressed_twice_in_the_amount_asks_and_does_not_refund(
    staff_page: Staffed, api: Api, stack: Stack, token: Any
) -> None:
    page, problems = staff_page
    email = f"enter-{time.time_ns()}@example.org"
    gift_id, _ = give(api, stack, email=email, amount=4000)
    staff = token("finance")
    sign_in(page, staff)
    page.get_by_role("link", name="Gifts").click()
    page.locator("#gift-filters").get_by_label("Donor email").fill(email)
    page.get_by_role("button", name="Find gifts").click()
    page.locator("#gift-table tbody tr").first.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    amount = dialog.get_by_label("Amount (dollars)")
    amount.fill("10")
    amount.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # a double press, or the key held down
    question = dialog.locator("#refund-question")
    expect(question).to_have_text("Refund $10.00 to " + email + "? This sends the money back through Stripe.")
    expect(question).to_be_focused()
    page.wait_for_timeout(1000)
    assert api.get(f"/staff/donations/{gift_id}", staff).json()["refunds"] == []
    assert axe_violations(page) == []
    # the refund takes a deliberate step to the button, then one refund however often it is pressed
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Confirm refund of $10.00")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(dialog.locator(".notice")).to_have_text("Refund of $10.00 made.", timeout=20_000)
    page.wait_for_timeout(500)
    assert [r["amount"] for r in api.get(f"/staff/donations/{gift_id}", staff).json()["refunds"]] == [1000]
    assert problems == []


cognito_web = dashboard.cognito_web


def test_a_forged_replayed_or_refused_cognito_callback_signs_nobody_in(
    browser: Browser, cognito_web: str, token: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    exchanged: list[str] = []

    def hosted_ui(route: Route) -> None:
        url = urllib.parse.urlsplit(route.request.url)
        if url.path == "/oauth2/authorize":  # the person cancels at the hosted UI
            query = dict(urllib.parse.parse_qsl(url.query))
            back = {"error": "access_denied", "error_description": "Call 555-0100", "state": query["state"]}
            return route.fulfill(
                status=302, headers={"Location": query["redirect_uri"] + "?" + urllib.parse.urlencode(back)}
            )
        exchanged.append(route.request.post_data or "")
        route.fulfill(status=200, json={"access_token": token("finance")})

    context.route(f"https://{dashboard.COGNITO}/**", hosted_ui)
    # a code and state from someone else's sign-in (or this one's, again) never reach the token endpoint
    page.goto(cognito_web + "/staff/?code=stolen&state=guessed")
    expect(page.get_by_role("alert")).to_have_text(
        "The sign-in did not come back as it left. Please try again."
    )
    assert "code=" not in page.url and exchanged == []
    page.get_by_role("button", name="Sign in with your organization").click()
    expect(page.get_by_role("alert")).to_have_text("The sign-in was canceled or refused. Please try again.")
    assert "error=" not in page.url and exchanged == []
    assert page.evaluate("sessionStorage.getItem('steward.pkce')") is None
    expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()
    assert axe_violations(page) == []
    context.close()


def test_an_export_followed_through_a_network_blip_still_ends_with_its_link(
    staff_page: Staffed, token: Any
) -> None:
    page, _ = staff_page
    sign_in(page, token("finance"))
    blips: list[str] = []

    def busy_twice(route: Route) -> None:
        if route.request.method == "GET" and len(blips) < 2:
            blips.append(route.request.url)
            return route.fulfill(status=503, json={"error": {"code": "unavailable", "message": "busy"}})
        route.continue_()

    page.route("**/api/staff/exports/*", busy_twice)
    page.get_by_role("link", name="Exports").click()
    page.get_by_role("button", name="Export gifts").click()
    expect(page.get_by_role("link", name=re.compile(r"Download CSV"))).to_be_visible(timeout=30_000)
    assert len(blips) == 2
    expect(page.locator("#export-list progress")).to_have_count(0)

    # an answer that will not change (the job is not there) ends its line, marked, at once
    page.unroute("**/api/staff/exports/*")
    gone = {"error": {"code": "not_found", "message": "no such export"}}
    page.route("**/api/staff/exports/*", lambda route: route.fulfill(status=404, json=gone))  # GETs only
    page.get_by_role("button", name="Export gifts").click()
    line = page.locator("#export-list li").first
    expect(line.locator(".error")).to_have_text("Could not follow this export: no such export")
    expect(line.locator("progress")).to_have_count(0)
    assert axe_violations(page) == []


def test_a_refund_confirmed_in_a_second_tab_after_the_first_shows_the_gift_as_it_is_now(
    browser: Browser, api: Api, stack: Stack, token: Any
) -> None:
    email = f"tabs-{time.time_ns()}@example.org"
    gift_id, _ = give(api, stack, email=email, amount=4000)
    staff = token("finance")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tabs = [context.new_page(), context.new_page()]  # each tab signs in: the token is per tab
    for tab in tabs:
        tab.goto(stack.config.web_url + "/staff/")
        sign_in(tab, staff)
        tab.evaluate("id => Staff.openGift(id)", gift_id)
        dialog = tab.get_by_role("dialog")
        dialog.get_by_label("Amount (dollars)").fill("40.00")
        dialog.get_by_role("button", name="Refund…").click()
    first, second = (tab.get_by_role("dialog") for tab in tabs)
    first.get_by_role("button", name="Confirm refund of $40.00").click()
    expect(first.locator(".notice")).to_have_text("Refund of $40.00 made.", timeout=20_000)
    second.get_by_role("button", name="Confirm refund of $40.00").click()
    notice = second.locator(".notice")
    expect(notice).to_contain_text("This gift changed meanwhile")
    expect(notice).to_be_focused()
    expect(second).to_contain_text("Refunded")
    expect(second.locator("#refund-form")).to_have_count(0)
    assert [r["amount"] for r in api.get(f"/staff/donations/{gift_id}", staff).json()["refunds"]] == [4000]
    assert axe_violations(tabs[1]) == []
    context.close()


def test_while_a_refund_is_asked_or_in_flight_its_form_cannot_start_another(
    staff_page: Staffed, api: Api, stack: Stack, token: Any
) -> None:
    page, problems = staff_page
    email = f"flight-{time.time_ns()}@example.org"
    gift_id, _ = give(api, stack, email=email, amount=4000)
    staff = token("finance")
    sign_in(page, staff)
    held: list[Route] = []
    page.route("**/api/staff/donations/*/refunds", lambda route: held.append(route))  # Stripe is slow
    page.evaluate("id => Staff.openGift(id)", gift_id)
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Amount (dollars)").fill("10")
    dialog.get_by_role("button", name="Refund…").click()
    try:
        for name in ("Amount (dollars)", "Reason", "Note for the record"):
            expect(dialog.get_by_label(name)).to_be_disabled()  # the asked refund is the one sent
        expect(dialog.get_by_role("button", name="Refund…")).to_be_disabled()
        dialog.get_by_role("button", name="Confirm refund of $10.00").click()
        expect(dialog.locator("#refund-message")).to_have_text("Refunding…")
        expect(dialog.get_by_role("button", name="Refund…")).to_be_disabled()
        expect(dialog.get_by_role("button", name="Confirm refund of $10.00")).to_be_disabled()
        assert len(held) == 1
    finally:
        for route in held:
            route.continue_()
    expect(dialog.locator(".notice")).to_have_text("Refund of $10.00 made.", timeout=20_000)
    assert [r["amount"] for r in api.get(f"/staff/donations/{gift_id}", staff).json()["refunds"]] == [1000]
    # Cancel gives the fields back
    dialog.get_by_label("Amount (dollars)").fill("5")
    dialog.get_by_role("button", name="Refund…").click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog.get_by_label("Amount (dollars)")).to_be_enabled()
    expect(dialog.get_by_role("button", name="Refund…")).to_be_focused()
    assert axe_violations(page) == []
    assert problems == []


def test_back_after_signing_out_shows_no_donor_and_asks_for_a_token(
    staff_page: Staffed, api: Api, stack: Stack, token: Any
) -> None:
    page, _ = staff_page
    email = f"back-{time.time_ns()}@example.org"
    gift_id, _ = give(api, stack, email=email)
    sign_in(page, token("finance"))
    page.get_by_role("link", name="Gifts").click()
    page.locator("#gift-filters").get_by_label("Donor email").fill(email)
    page.get_by_role("button", name="Find gifts").click()
    expect(page.locator("#gift-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Payouts").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_have_text("You have signed out.")
    for _ in range(2):  # back through the sections seen before
        page.go_back()
        if not page.url.startswith(stack.config.web_url):
            break
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()
        assert email not in page.content() and gift_id not in page.content()


def test_a_gift_answering_late_never_replaces_the_one_opened_after_it(
    staff_page: Staffed, api: Api, stack: Stack, token: Any
) -> None:
    page, problems = staff_page
    first_id, _ = give(api, stack, amount=1100, first_name="Slow", last_name="First")
    second_id, _ = give(api, stack, amount=2200, first_name="Quick", last_name="Second")
    sign_in(page, token("finance"))
    held: list[Route] = []
    page.route(f"**/api/staff/donations/{first_id}", lambda route: held.append(route))
    try:
        page.evaluate("id => { Staff.openGift(id); }", first_id)  # not awaited: it is held
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")  # tired of waiting: close, open another
        page.evaluate("id => Staff.openGift(id)", second_id)
        expect(dialog.get_by_role("heading", name="Gift of $22.00 from Quick Second")).to_be_visible()
        assert len(held) == 1
    finally:
        for route in held:
            route.continue_()  # the first gift answers now
    page.wait_for_timeout(1000)
    expect(dialog.get_by_role("heading", name="Gift of $22.00 from Quick Second")).to_be_visible()
    expect(dialog).not_to_contain_text(first_id)
    expect(dialog).to_contain_text(second_id)
    assert problems == []


def test_a_right_to_left_override_in_a_name_never_turns_the_email_around(
    staff_page: Staffed, api: Api, stack: Stack, token: Any
) -> None:
    page, problems = staff_page
    email = f"bidi-{time.time_ns()}@example.org"
    give(api, stack, email=email, last_name="\u202eniltsop")
    sign_in(page, token("finance"))
    page.get_by_role("link", name="Gifts").click()
    page.locator("#gift-filters").get_by_label("Donor email").fill(email)
    page.get_by_role("button", name="Find gifts").click()
    page.locator("#gift-table tbody tr").first.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    # each value is isolated (<bdi>): the name's override ends with it, the email reads as typed
    shown = dialog.locator("dd bdi", has_text=email)
    expect(shown).to_have_count(1)
    assert shown.evaluate("node => getComputedStyle(node).unicodeBidi") == "isolate"
    name = dialog.locator("dd bdi", has_text="niltsop")
    assert name.evaluate("node => node.closest('dd') !== null")
    assert problems == []
