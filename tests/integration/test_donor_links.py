"""The donor's links from a receipt email, through the local stack: the gift page, the
receipt page and its PDF; tampered, misdirected and expired tokens (403, nothing changes);
GETs that change nothing; and changing a monthly gift's card through a SetupIntent."""

from __future__ import annotations

import io
import time
from typing import Any

import requests
from pypdf import PdfReader

from chalicelib import bootstrap
from chalicelib.domain.tokens import donor_link_token
from devstack.stack import Stack
from tests.helpers import Api, Mailbox, confirm_card_setup, give, link
from tests.integration.test_recurring import monthly, plan


def unique(label: str) -> str:
    return f"{label}-{time.time_ns()}@example.org"


def paid(api: Api, stack: Stack, email: str, amount: int = 4200) -> tuple[str, dict[str, str]]:
    """A paid gift and its receipt's three links: gift page, receipt page, PDF."""
    donation_id, confirmed = give(api, stack, email=email, amount=amount)
    assert confirmed.json()["status"] == "succeeded", confirmed.text
    [receipt] = Mailbox(stack).wait_to(email)
    base = f"/donor/gifts/{donation_id}"
    return donation_id, {
        "gift": link(receipt, base),
        "receipt": link(receipt, base + "/receipt"),
        "pdf": link(receipt, base + "/receipt.pdf"),
    }


def record(api: Api, token: Any, donation_id: str) -> dict[str, Any]:
    answer = api.get(f"/staff/donations/{donation_id}", token())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def with_token(url: str, value: str) -> str:
    return url.split("?token=", 1)[0] + "?token=" + value


def token_of(url: str) -> str:
    return url.split("?token=", 1)[1]


def expired(action: str, record_id: str) -> str:
    """A link token signed with the stack's own keys that expired a minute ago."""
    keys = bootstrap.get_settings().keys
    return donor_link_token(keys, action, record_id, int(time.time() * 1000) - 60_000)  # type: ignore[arg-type]


def test_the_gift_page_receipt_page_and_pdf_open_from_the_receipt_email(
    api: Api, stack: Stack, token: Any
) -> None:
    donation_id, links = paid(api, stack, unique("links"))
    before = record(api, token, donation_id)
    gift_page = requests.get(links["gift"], timeout=10)
    assert (
        gift_page.status_code == 200
        and "$42.00" in gift_page.text
        and "Received, thank you" in gift_page.text
    )
    receipt_page = requests.get(links["receipt"], timeout=10)
    assert receipt_page.status_code == 200
    assert "EIN 12-3456789" in receipt_page.text and before["receipt_number"] in receipt_page.text
    pdf = requests.get(links["pdf"], timeout=30)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "$42.00" in text and "12-3456789" in text and before["receipt_number"] in text
    assert record(api, token, donation_id) == before  # a GET never changes anything


def test_tampered_misdirected_and_expired_links_answer_403_and_change_nothing(
    api: Api, stack: Stack, token: Any
) -> None:
    mine, links = paid(api, stack, unique("mine"))
    other, other_links = paid(api, stack, unique("other"))
    before = (record(api, token, mine), record(api, token, other))
    good = token_of(links["gift"])
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    refused = [
        tampered,
        token_of(other_links["gift"]),  # a real token, for another gift
        expired("gift", mine),
        good.replace(".gift.", ".plan."),  # the right MAC under another action
        "",
    ]
    for url in links.values():
        for value in refused:
            answer = requests.get(with_token(url, value), timeout=10, headers={"Accept": "text/html"})
            assert answer.status_code == 403, (url, value, answer.status_code)
            assert "$42.00" not in answer.text and "12-3456789" not in answer.text
    assert (record(api, token, mine), record(api, token, other)) == before


def test_cancel_with_an_expired_or_another_plans_link_answers_403_and_the_plan_stays(
    api: Api, stack: Stack, token: Any
) -> None:
    email = unique("keep")
    plan_id, _ = monthly(api, stack, email)
    other_id, _ = monthly(api, stack, unique("keep-other"))
    cancel = link(Mailbox(stack).wait_to(email)[0], f"/donor/recurring/{plan_id}/cancel")
    keys = bootstrap.get_settings().keys
    other_token = donor_link_token(keys, "plan", other_id, int(time.time() * 1000) + 60_000)
    gift_token = donor_link_token(keys, "gift", plan_id, int(time.time() * 1000) + 60_000)  # same id
    for value in (expired("plan", plan_id), other_token, gift_token):
        page = requests.get(with_token(cancel, value), timeout=10)
        assert page.status_code == 403
        posted = requests.post(cancel.split("?")[0], data={"token": value, "cancel": "yes"}, timeout=10)
        assert posted.status_code == 403
    assert plan(api, token, plan_id)["status"] == "active"
    assert plan(api, token, other_id)["status"] == "active"


def customer(stack: Stack, customer_id: str) -> dict[str, Any]:
    answer = requests.get(
        f"{stack.config.stripe_url}/v1/customers/{customer_id}",
        auth=("sk_test_steward_local", ""),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_donor_changes_the_card_of_a_monthly_gift_through_a_setup_intent(
    api: Api, stack: Stack, token: Any
) -> None:
    email = unique("card")
    plan_id, _ = monthly(api, stack, email)
    state = plan(api, token, plan_id)
    card_url = link(Mailbox(stack).wait_to(email)[0], f"/donor/recurring/{plan_id}/card")
    old_card = customer(stack, state["customer_id"])["invoice_settings"]["default_payment_method"]

    page = requests.get(card_url, timeout=10)
    assert page.status_code == 200 and "Update your card" in page.text
    policy = page.headers["Content-Security-Policy"]
    stripe_origin = stack.config.stripe_url.rstrip("/")
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
    assert stripe_origin in script_src and "'unsafe-inline'" not in script_src
    assert f"frame-src {stripe_origin}" in policy and stripe_origin in policy.split("connect-src")[1]
    assert f'src="{stripe_origin}/js.stripe.com/v3/"' in page.text
    assert plan(api, token, plan_id) == state  # a GET changes nothing

    assert requests.get(with_token(card_url, expired("plan", plan_id)), timeout=10).status_code == 403
    base = card_url.split("?")[0]
    good = token_of(card_url)
    for body in ({"token": good[:-2] + "zz"}, {}, {"token": expired("plan", plan_id)}):
        assert api.post(base.removeprefix(api.base) + "/intent", body).status_code == 403
    intent = api.post(base.removeprefix(api.base) + "/intent", {"token": good})
    assert intent.status_code == 200, intent.text
    secret = intent.json()["client_secret"]
    assert secret.startswith("seti_")
    assert confirm_card_setup(stack, secret, "5555555555554444").status_code == 200
    setup_intent_id = secret.split("_secret_")[0]

    path = base.removeprefix(api.base)
    assert api.post(path, {"token": "nope", "setup_intent_id": setup_intent_id}).status_code == 403
    assert api.post(path, {"setup_intent_id": setup_intent_id}).status_code == 403
    other_id, _ = monthly(api, stack, unique("card-other"))
    foreign = record(api, token, other_id)["setup_intent_id"]  # another donor's saved card
    for bad in ("pi_123", 42, "seti_" + "x" * 200, "seti_does_not_exist", foreign):
        answer = api.post(path, {"token": good, "setup_intent_id": bad})
        assert answer.status_code == 422, (bad, answer.status_code, answer.text)
        assert answer.json()["error"]["fields"][0]["field"] == "setup_intent_id"
    assert customer(stack, state["customer_id"])["invoice_settings"]["default_payment_method"] == old_card

    saved = api.post(path, {"token": good, "setup_intent_id": setup_intent_id})
    assert saved.status_code == 200, saved.text
    new_card = customer(stack, state["customer_id"])["invoice_settings"]["default_payment_method"]
    assert new_card and new_card != old_card
    setup = requests.get(
        f"{stack.config.stripe_url}/v1/setup_intents/{setup_intent_id}",
        auth=("sk_test_steward_local", ""),
        timeout=10,
    ).json()
    assert new_card == setup["payment_method"]


def test_an_ended_monthly_gift_has_no_card_to_update(api: Api, stack: Stack, token: Any) -> None:
    email = unique("ended")
    plan_id, _ = monthly(api, stack, email)
    receipt = Mailbox(stack).wait_to(email)[0]
    card_url = link(receipt, f"/donor/recurring/{plan_id}/card")
    cancel_url = link(receipt, f"/donor/recurring/{plan_id}/cancel")
    unconfirmed = api.post(f"/donor/recurring/{plan_id}/card/intent", {"token": token_of(card_url)})
    assert unconfirmed.status_code == 200
    seti = unconfirmed.json()["client_secret"].split("_secret_")[0]
    not_yet = api.post(
        f"/donor/recurring/{plan_id}/card", {"token": token_of(card_url), "setup_intent_id": seti}
    )
    assert not_yet.status_code == 409, not_yet.text  # the card was never confirmed
    assert requests.post(cancel_url, data={"cancel": "yes"}, timeout=30).status_code == 200
    ended = api.post(f"/donor/recurring/{plan_id}/card/intent", {"token": token_of(card_url)})
    assert ended.status_code == 409, ended.text
    assert plan(api, token, plan_id)["status"] == "canceled"


def test_a_declined_gift_has_a_page_but_no_receipt(api: Api, stack: Stack, token: Any) -> None:
    from tests.helpers import CARD_DECLINED_AT_CHARGE

    donation_id, confirmed = give(api, stack, CARD_DECLINED_AT_CHARGE, email=unique("declined"))
    assert confirmed.json()["status"] == "failed", confirmed.text
    keys = bootstrap.get_settings().keys
    value = donor_link_token(keys, "gift", donation_id, int(time.time() * 1000) + 60_000)
    base = f"{api.base}/donor/gifts/{donation_id}"
    page = requests.get(f"{base}?token={value}", timeout=10)
    assert page.status_code == 200 and "Not completed" in page.text and "receipt.pdf" not in page.text
    for path in ("/receipt", "/receipt.pdf"):
        answer = requests.get(f"{base}{path}?token={value}", timeout=10)
        assert answer.status_code == 404 and "12-3456789" not in answer.text
    assert record(api, token, donation_id)["receipt_number"] is None
