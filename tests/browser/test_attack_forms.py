"""The embedded forms under a careless donor, a failing network and a hostile host page, on the
demo site of the session's stack (localstripe's Stripe.js, DynamoDB Local)."""

from __future__ import annotations

import urllib.parse

import pytest
import requests
from playwright.sync_api import Page, Response, Route, expect

from devstack import tokens
from devstack.stack import Stack
from tests.browser.conftest import GIVE, fill_card
from tests.helpers import CARD_OK

pytestmark = pytest.mark.browser

THANKS = "#steward-donate-thanks"
STATUS = "#steward-donate-status"
TIME_TRAP_S = 2.2  # the form token's time trap (STEWARD_TIME_TRAP_SECONDS): a human takes longer


def fill_donor(page: Page, email: str) -> None:
    page.fill("#steward-donate-first-name", "Ann")
    page.fill("#steward-donate-last-name", "Lee")
    page.fill("#steward-donate-email", email)


def charged(stack: Stack, donation_ids: set[str]) -> list[str]:
    """The succeeded PaymentIntents localstripe holds for these gifts (its metadata names them)."""
    listed = requests.get(
        stack.config.stripe_url + "/v1/payment_intents", auth=("sk_test_steward_local", ""), timeout=10
    ).json()["data"]
    return [
        pi["id"]
        for pi in listed
        if pi["status"] == "succeeded" and (pi.get("metadata") or {}).get("donation_id") in donation_ids
    ]


def gifts_started(page: Page) -> set[str]:
    """The donation ids the page's POST /donations answers named, as they come."""
    ids: set[str] = set()

    def note(response: Response) -> None:
        if response.request.method == "POST" and response.url.endswith("/donations") and response.ok:
            ids.add(response.json()["donation_id"])

    page.on("response", note)
    return ids


def test_a_retry_after_the_confirm_answer_was_lost_thanks_without_charging_again(
    page: Page, stack: Stack
) -> None:
    """The gift is charged but its answer never reaches the browser, and the network stays
    down through the form's own retries. The donor clicks Give again: the same attempt goes on
    to its confirm, which answers that the gift went through. Before, the form said "Something
    went wrong", then saved the card again, which Stripe refuses for a SetupIntent that has
    succeeded, told the donor to try another card and started a second gift."""
    started = gifts_started(page)
    answers: list[int] = []
    network = {"down": True}

    def drop_answers(route: Route) -> None:
        if not network["down"]:
            route.continue_()
            return
        if not answers:
            answers.append(route.fetch().status)  # the server charges the card ...
        route.abort("connectionreset")  # ... and no answer comes back

    page.route("**/donations/*/confirm", drop_answers)
    page.get_by_role("button", name="$50", exact=True).click()
    fill_donor(page, "lost-answer@example.org")
    fill_card(page, CARD_OK)
    page.wait_for_timeout(TIME_TRAP_S * 1000)
    page.click(GIVE)
    expect(page.locator(STATUS)).to_contain_text("still confirming your gift", timeout=30_000)
    assert answers == [200]

    network["down"] = False
    page.click(GIVE)
    expect(page.locator(THANKS)).to_be_visible(timeout=20_000)
    expect(page.locator(THANKS)).to_contain_text("$50.00")
    assert len(started) == 1 and len(charged(stack, started)) == 1, started


def test_a_confirm_answer_lost_once_is_asked_again_by_the_form(page: Page, stack: Stack) -> None:
    """One dropped answer is retried like a 5xx, without the donor: the thank-you, one charge."""
    started = gifts_started(page)
    dropped: list[int] = []

    def drop_first(route: Route) -> None:
        if dropped:
            route.continue_()
            return
        dropped.append(route.fetch().status)
        route.abort("connectionreset")

    page.route("**/donations/*/confirm", drop_first)
    page.get_by_role("button", name="$25", exact=True).click()
    fill_donor(page, "dropped-once@example.org")
    fill_card(page, CARD_OK)
    page.wait_for_timeout(TIME_TRAP_S * 1000)
    page.click(GIVE)
    expect(page.locator(THANKS)).to_contain_text("$25.00", timeout=20_000)
    assert dropped == [200] and len(charged(stack, started)) == 1


def test_a_newsletter_link_with_a_line_break_in_its_utm_campaign_still_takes_the_gift(
    page: Page, stack: Stack
) -> None:
    """Tracking values come from whatever link brought the donor: a tab or line break in one,
    or a cut in the middle of an emoji, made every Give answer 422 on a field the donor never
    saw ("Something went wrong. Please reload the page"), and a reload kept the link."""
    long_tag = "a" * 99 + "\N{GRINNING FACE}"
    query = urllib.parse.urlencode(
        {"utm_campaign": "Spring\nAppeal", "utm_source": "news\tletter", "utm_medium": long_tag}
    )
    page.goto(f"{stack.config.web_url}/index.html?{query}")
    expect(page.locator(GIVE)).to_be_enabled(timeout=15_000)
    started = gifts_started(page)
    page.get_by_role("button", name="$25", exact=True).click()
    fill_donor(page, "utm-tags@example.org")
    fill_card(page, CARD_OK)
    page.wait_for_timeout(TIME_TRAP_S * 1000)
    page.click(GIVE)
    expect(page.locator(THANKS)).to_be_visible(timeout=20_000)
    assert len(started) == 1 and len(charged(stack, started)) == 1


def test_a_placeholder_the_page_adds_after_load_becomes_its_form_once(page: Page) -> None:
    """A host page that renders late (a framework, a dialog) adds its placeholder after the
    script ran: it stayed an empty div. Each placeholder is built once, whatever else changes."""
    page.evaluate(
        """() => {
          const late = document.createElement('div');
          late.id = 'late-host';
          late.setAttribute('data-steward-form', 'contact');
          document.querySelector('main').append(late);
        }"""
    )
    late = page.locator("#late-host form.steward-contact")
    expect(late).to_be_visible(timeout=10_000)
    expect(late.get_by_label("Topic")).to_be_visible()
    page.evaluate("() => document.querySelector('main').append(document.createElement('p'))")
    page.wait_for_timeout(500)
    assert page.locator("form.steward-donate").count() == 1
    assert page.locator("#late-host form").count() == 1
    ids = page.evaluate("() => Array.from(document.querySelectorAll('[id]'), (e) => e.id)")
    assert len(ids) == len(set(ids))


def test_make_another_gift_keeps_the_fund_the_page_chose(page: Page) -> None:
    """The demo's donate form gives to Peace Programs (data-fund). After a gift, "Make another
    gift" reset the form to the first fund on the list, so the second gift went elsewhere."""
    fund = page.locator("#steward-donate-fund")
    expect(fund).to_have_value("peace-programs")
    page.get_by_role("button", name="$25", exact=True).click()
    fill_donor(page, "second-gift@example.org")
    fill_card(page, CARD_OK)
    page.wait_for_timeout(TIME_TRAP_S * 1000)
    page.click(GIVE)
    expect(page.locator(THANKS)).to_contain_text("to Peace Programs", timeout=20_000)
    page.get_by_role("button", name="Make another gift").click()
    expect(fund).to_have_value("peace-programs")


def test_a_second_message_keeps_the_topic_the_page_chose(page: Page) -> None:
    """A contact form routes to the topic its page names (data-topic); after one message the
    reset form fell back to the first topic on the list."""
    page.evaluate(
        """() => {
          const host = document.createElement('div');
          host.setAttribute('data-steward-form', 'contact');
          host.setAttribute('data-topic', 'media');
          document.querySelector('main').append(host);
        }"""
    )
    topic = page.locator("#steward-contact-2-topic")
    expect(topic).to_have_value("media", timeout=10_000)
    page.fill("#steward-contact-2-name", "Sam Ortiz")
    page.fill("#steward-contact-2-email", "sam@example.org")
    page.fill("#steward-contact-2-subject", "An interview")
    page.fill("#steward-contact-2-message", "May we talk about the peace circles?")
    page.wait_for_timeout(TIME_TRAP_S * 1000)
    page.locator("#steward-contact-2-send").click()
    expect(page.locator("#steward-contact-2-status")).to_contain_text("Thank you", timeout=20_000)
    expect(topic).to_have_value("media")


def test_a_link_with_a_stray_percent_in_its_hash_loads_the_forms_without_an_alarm(
    page: Page, stack: Stack
) -> None:
    """A page address ending "#100%" is not valid percent-encoding: decoding it threw after
    the forms were built, and each placeholder also said "This form could not load"."""
    page.goto(stack.config.web_url + "/index.html?from=news#100%")  # a new load, not a jump
    expect(page.locator(GIVE)).to_be_enabled(timeout=15_000)
    page.wait_for_timeout(500)
    expect(page.get_by_text("This form could not load")).to_have_count(0)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_thank_you_shows_its_title_and_amount_on_screen(page: Page, width: int) -> None:
    """After Give the page showed the bottom of the thank-you (the signup offer and "Make another
    gift"); its title and the amount were above the screen, at 390 and at 1280 px."""
    page.set_viewport_size({"width": width, "height": 800})
    page.get_by_role("button", name="$100", exact=True).click()
    fill_donor(page, f"on-screen-{width}@example.org")
    fill_card(page, CARD_OK)
    page.wait_for_timeout(TIME_TRAP_S * 1000)
    page.click(GIVE)
    expect(page.locator(THANKS)).to_be_visible(timeout=20_000)
    expect(page.locator(THANKS)).to_be_focused()
    page.wait_for_timeout(300)
    expect(page.locator(THANKS).get_by_role("heading")).to_be_in_viewport()
    expect(page.locator(THANKS).get_by_text("Your gift of $100.00")).to_be_in_viewport()


def test_a_visitor_who_sends_at_once_is_heard_not_taken_for_a_bot(page: Page, stack: Stack) -> None:
    """The form token must be a couple of seconds old (the time trap); a visitor whose browser
    fills the form at once and who sends it straight away is a person, not a bot. The form
    waits out what is left of the trap before it sends, so the message is stored and mailed:
    before, it was answered as a bot's (202, nothing stored)."""
    import time

    email = f"quick-{time.time_ns()}@example.org"
    page.goto(stack.config.web_url + "/index.html")
    expect(page.locator("#steward-contact-name")).to_be_visible(timeout=15_000)
    page.fill("#steward-contact-name", "Quick Visitor")
    page.fill("#steward-contact-email", email)
    page.fill("#steward-contact-subject", "Hello")
    page.fill("#steward-contact-message", "Sent as soon as the page was there.")
    page.click("#steward-contact-send")
    expect(page.locator("#steward-contact-status")).to_contain_text("on its way", timeout=10_000)
    token = tokens.mint(stack.jwt_dir, "program:peace-programs")
    listed = requests.get(
        f"{stack.config.api_url}/staff/contacts", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()["items"]
    assert [m["subject"] for m in listed if m["email"] == email] == ["Hello"]
