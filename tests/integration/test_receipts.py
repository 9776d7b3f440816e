"""Receipts through the whole flow: a gift given over HTTP, its receipt read from the SMTP
sink's .eml. The IRS wording for a small gift, a gift of $250 or more, and one with a premium
above $75; and exactly one receipt per gift however often confirm and the webhooks repeat."""

from __future__ import annotations

import json
import time
from typing import Any

from chalicelib import bootstrap
from devstack.stack import Stack
from tests.helpers import Api, Mailbox, event, give, plain_text, sign
from tests.integration.test_confirm_crashes import stripe_list

ADDRESS = "453 Freedom Parkway, Atlanta, GA 30307, USA"
NO_GOODS = "No goods or services were provided in exchange for this contribution."
WRITTEN = "It is the written acknowledgment of your contribution that the IRS asks for."
QUID_PRO_QUO = "Quid pro quo disclosure"


def unique(label: str) -> str:
    return f"{label}-{time.time_ns()}@example.org"


def paid_gift(api: Api, stack: Stack, token: Any, email: str, **extra: Any) -> dict[str, Any]:
    donation_id, confirmed = give(api, stack, email=email, **extra)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded", confirmed.text
    answer = api.get(f"/staff/donations/{donation_id}", token())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def receipt_text(stack: Stack, email: str) -> str:
    [receipt] = Mailbox(stack).wait_to(email)
    assert "receipt" in str(receipt["Subject"]).lower()
    return " ".join(plain_text(receipt).split())


def assert_issuer_and_facts(text: str, gift: dict[str, Any], amount: str) -> None:
    settings = bootstrap.get_settings()
    assert gift["receipt_number"] and gift["receipt_number"] in text
    assert "EIN 12-3456789" in text and settings.org_legal_name in text and ADDRESS in text
    paid = gift["succeeded_at"]
    assert paid[:4] in text and time.strftime("%B", time.strptime(paid[:10], "%Y-%m-%d")) in text
    assert f"{amount} USD" in text and "Peace Programs" in text and "Ada Lovelace" in text


def test_a_gift_under_250_says_no_goods_or_services_and_is_no_written_acknowledgment(
    api: Api, stack: Stack, token: Any
) -> None:
    email = unique("small")
    gift = paid_gift(api, stack, token, email, amount=2500)
    text = receipt_text(stack, email)
    assert_issuer_and_facts(text, gift, "$25.00")
    assert NO_GOODS in text and WRITTEN not in text and QUID_PRO_QUO not in text


def test_a_gift_of_250_or_more_is_the_contemporaneous_written_acknowledgment(
    api: Api, stack: Stack, token: Any
) -> None:
    email = unique("large")
    gift = paid_gift(api, stack, token, email, amount=25000)
    text = receipt_text(stack, email)
    assert_issuer_and_facts(text, gift, "$250.00")
    assert WRITTEN in text and NO_GOODS in text and QUID_PRO_QUO not in text


def test_a_gift_above_75_with_a_premium_carries_the_quid_pro_quo_disclosure(
    api: Api, stack: Stack, token: Any
) -> None:
    email = unique("premium")
    gift = paid_gift(api, stack, token, email, amount=10000, premium="tote")
    assert (gift["premium_id"], gift["premium_value"], gift["deductible_amount"]) == ("tote", 2500, 7500)
    text = receipt_text(stack, email)
    assert_issuer_and_facts(text, gift, "$100.00")
    assert QUID_PRO_QUO in text and NO_GOODS not in text
    assert "Canvas tote bag" in text
    assert "good-faith estimate of their fair market value is $25.00" in text
    assert "deductible for federal income tax purposes is $75.00" in text


def test_config_lists_the_premiums_and_the_cover_the_fee_formula(api: Api) -> None:
    config = api.get("/config").json()
    assert config["premiums"] == [{"id": "tote", "name": "Canvas tote bag", "value": 2500}]
    assert config["fee_percent"] == 2.2 and config["fee_fixed"] == 30
    assert config["frequencies"] == ["one_time", "monthly", "annual"]


def replay(api: Api, stack: Stack, stripe_event: dict[str, Any], fresh_id: bool) -> int:
    """Deliver one of localstripe's own events again, signed; with a fresh id, as a second
    event carrying the same fact."""
    body = dict(stripe_event, id=f"evt_again_{time.time_ns()}") if fresh_id else stripe_event
    payload = json.dumps(body).encode()
    if fresh_id:
        payload = event(body["type"], body["data"]["object"], body["id"])
    headers = {"Stripe-Signature": sign(payload, stack.webhook_secret)}
    return api.post("/webhooks/stripe", raw=payload, headers=headers).status_code


def test_one_receipt_per_gift_when_confirm_is_retried_and_webhooks_replay(
    api: Api, stack: Stack, token: Any
) -> None:
    email = unique("once")
    gift = paid_gift(api, stack, token, email)
    for _ in range(2):
        again = api.post(f"/donations/{gift['id']}/confirm", {})
        assert again.status_code == 200 and again.json()["status"] == "succeeded"
    intent = gift["payment_intent_id"]
    mine = [
        e
        for e in stripe_list(stack, "/v1/events")
        if intent in (e["data"]["object"].get("id"), e["data"]["object"].get("payment_intent"))
    ]
    assert any(e["type"] == "payment_intent.succeeded" for e in mine)
    for stripe_event in mine:
        assert replay(api, stack, stripe_event, fresh_id=False) == 200
        assert replay(api, stack, stripe_event, fresh_id=True) == 200
    Mailbox(stack).wait_to(email)
    time.sleep(3)  # the stream poller has had time to send anything else that was queued
    receipts = Mailbox(stack).to(email)
    assert len(receipts) == 1, [str(m["Subject"]) for m in receipts]
    assert gift["receipt_number"] in plain_text(receipts[0])
    after = api.get(f"/staff/donations/{gift['id']}", token()).json()
    assert after["receipt_number"] == gift["receipt_number"] and after["status"] == "succeeded"


def test_a_premium_gift_of_75_or_less_states_the_value_without_the_disclosure(
    api: Api, stack: Stack, token: Any
) -> None:
    email = unique("premium-small")
    gift = paid_gift(api, stack, token, email, amount=7500, premium="tote")
    assert gift["deductible_amount"] == 5000
    text = receipt_text(stack, email)
    assert (
        "fair market value is $25.00" in text
        and "deductible for federal income tax purposes is $50.00" in text
    )
    assert QUID_PRO_QUO not in text and NO_GOODS not in text


def test_the_html_receipt_escapes_what_the_donor_typed(api: Api, stack: Stack, token: Any) -> None:
    email = unique("markup")
    paid_gift(api, stack, token, email, first_name="<b>Ada</b>", last_name="O'Hara & <i>Sons</i>")
    [receipt] = Mailbox(stack).wait_to(email)
    markup = receipt.get_body(("html",))
    assert markup is not None
    body = str(markup.get_content())
    assert "<b>Ada</b>" not in body and "<i>Sons</i>" not in body
    assert "&lt;b&gt;Ada&lt;/b&gt;" in body and "12-3456789" in body
    assert "<b>Ada</b> O'Hara & <i>Sons</i>" in plain_text(receipt)
