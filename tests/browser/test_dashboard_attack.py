"""The finance dashboard as a careless user or an attacker meets it: a crafted section in the
address, a token pasted with line breaks, amounts written the European way, a donor's name
of any length, an export whose filters the API refuses."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect

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
    expect(dialog.get_by_role("button", name="Confirm refund of $1,250.50")).to_be_focused()
    assert axe_violations(page) == []
    assert problems == []


def test_a_donors_name_of_any_length_stays_inside_the_page_and_the_dialog(
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
    table = page.locator("#gifts .scroll")
    assert table.evaluate("box => box.scrollWidth <= box.clientWidth"), (
        "the gift list scrolls sideways at 1280 px"
    )
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
    sign_in(page, token("finance"))
    page.get_by_role("link", name="Gifts").click()
    filters = page.locator("#gift-filters")
    filters.get_by_label("Amount from").fill("50")
    filters.get_by_label("Amount to").fill("10")
    filters.get_by_role("button", name="Export these as CSV").click()
    expect(filters.get_by_label("Amount to")).to_have_attribute("aria-invalid", "true")
    expect(filters.get_by_label("Amount to")).to_be_focused()
    expect(page.locator("#gifts-message")).to_contain_text("must not be under min_amount")
    assert page.url.endswith("#gifts") and visible_sections(page) == ["gifts"]
    expect(page.locator("#export-list li")).to_have_count(0)
    assert axe_violations(page) == []
    shoot(page, "attack-export-refused")
