"""Gift options through the local stack: a tribute and its notice (never the amount), covering
the fee (charged at localstripe by the configured formula, the covered part kept apart), UTM
fields, anonymous gifts in the staff list, and hostile values refused naming the field."""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

import pytest
import requests

from devstack.stack import Stack
from tests.helpers import GIFT, Api, Mailbox, give, plain_text


def unique(label: str) -> str:
    return f"{label}-{time.time_ns()}@example.org"


def paid(api: Api, stack: Stack, token: Any, **extra: Any) -> dict[str, Any]:
    donation_id, confirmed = give(api, stack, **extra)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded", confirmed.text
    answer = api.get(f"/staff/donations/{donation_id}", token())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def everything(message: Any) -> str:
    """Subject, sender, recipient and every text part of a message, as one string."""
    parts = [str(message["Subject"]), str(message["From"]), str(message["To"])]
    parts += [str(part.get_content()) for part in message.walk() if part.get_content_maintype() == "text"]
    return "\n".join(parts)


def test_a_tribute_notice_names_the_donor_and_honoree_and_never_the_amount(
    api: Api, stack: Stack, token: Any
) -> None:
    donor, told = unique("tribute-donor"), unique("tribute-told")
    tribute = {"kind": "memory", "name": "Grace Hopper", "notify_name": "Alan Turing", "notify_email": told}
    gift = paid(api, stack, token, email=donor, amount=12345, tribute=tribute)
    assert (gift["tribute_kind"], gift["tribute_name"], gift["tribute_notify_email"]) == (
        "memory",
        "Grace Hopper",
        told,
    )
    [notice] = Mailbox(stack).wait_to(told)
    text = everything(notice)
    assert "Ada Lovelace" in text and "in memory of Grace Hopper" in text
    for amount in ("123.45", "12345", "12,345", "$"):
        assert amount not in text, amount
    [receipt] = Mailbox(stack).wait_to(donor)
    assert "In memory of Grace Hopper" in " ".join(plain_text(receipt).split())
    again = api.post(f"/donations/{gift['id']}/confirm", {})
    assert again.status_code == 200
    time.sleep(2)
    assert len(Mailbox(stack).to(told)) == 1 and len(Mailbox(stack).to(donor)) == 1


def test_covering_the_fee_charges_the_configured_formula_and_keeps_the_fee_apart(
    api: Api, stack: Stack, token: Any
) -> None:
    config = api.get("/config").json()
    rate = Decimal(str(config["fee_percent"])) / 100
    charged = math.ceil((Decimal(5000) + config["fee_fixed"]) / (1 - rate))
    gift = paid(api, stack, token, email=unique("cover"), amount=5000, cover_fee=True)
    assert gift["amount"] == charged and gift["covered_fee"] == charged - 5000 > 0
    intent = requests.get(
        f"{stack.config.stripe_url}/v1/payment_intents/{gift['payment_intent_id']}",
        auth=("sk_test_steward_local", ""),
        timeout=10,
    ).json()
    assert intent["amount"] == charged and intent["status"] == "succeeded"
    plain = paid(api, stack, token, email=unique("no-cover"), amount=5000)
    assert (plain["amount"], plain["covered_fee"]) == (5000, 0)


def test_a_monthly_gift_that_covers_the_fee_subscribes_to_the_raised_amount(
    api: Api, stack: Stack, token: Any
) -> None:
    from tests.integration.test_recurring import monthly, plan

    config = api.get("/config").json()
    rate = Decimal(str(config["fee_percent"])) / 100
    charged = math.ceil((Decimal(2000) + config["fee_fixed"]) / (1 - rate))
    plan_id, first = monthly(api, stack, unique("cover-monthly"), amount=2000, cover_fee=True)
    assert first["status"] == "succeeded"
    state = plan(api, token, plan_id)
    assert state["amount"] == charged
    [installment] = state["installments"]
    assert installment["amount"] == charged and installment["covered_fee"] == charged - 2000
    subscription = requests.get(
        f"{stack.config.stripe_url}/v1/subscriptions/{state['subscription_id']}",
        auth=("sk_test_steward_local", ""),
        timeout=10,
    ).json()
    assert subscription["items"]["data"][0]["plan"]["amount"] == charged


def test_utm_fields_and_anonymity_are_recorded_and_shown_to_staff(api: Api, stack: Stack, token: Any) -> None:
    utm = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "giving-tuesday"}
    gift = paid(api, stack, token, email=unique("anon"), anonymous=True, **utm)
    assert {k: gift[k] for k in utm} == utm and gift["anonymous"] is True
    day = gift["created_at"][:10]
    found, cursor = [], None
    while True:
        params = {"from": day, "to": day, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = api.get("/staff/donations", token(), **params).json()
        found += [item for item in page["items"] if item["id"] == gift["id"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert len(found) == 1 and found[0]["anonymous"] is True and found[0]["utm_source"] == "newsletter"


HOSTILE = [
    ({"first_name": "Ada\r\nBcc: x@example.org"}, "first_name"),
    ({"last_name": "Love\u2028lace"}, "last_name"),
    ({"first_name": "=?utf-8?q?Ada?="}, "first_name"),
    ({"first_name": "A" * 101}, "first_name"),
    ({"amount": "2500"}, "amount"),
    ({"amount": 25.5}, "amount"),
    ({"anonymous": "yes"}, "anonymous"),
    ({"cover_fee": 1}, "cover_fee"),
    ({"premium": "yacht"}, "premium"),
    ({"premium": 7}, "premium"),
    ({"utm_source": "x" * 101}, "utm_source"),
    ({"utm_medium": "email\nBcc: x"}, "utm_medium"),
    ({"utm_campaign": "spring\u2028sale"}, "utm_campaign"),
    ({"campaign": "spring\u0085sale"}, "campaign"),
    ({"campaign": "spring\u2029sale"}, "campaign"),
    ({"tribute": {"kind": "honor", "name": "Grace\nHopper"}}, "tribute"),
    ({"tribute": {"kind": "honor", "name": "=?utf-8?b?R3JhY2U=?="}}, "tribute"),
    ({"tribute": {"kind": "roast", "name": "Grace"}}, "tribute"),
    (
        {"tribute": {"kind": "honor", "name": "Grace", "notify_email": "a@example.org\r\nBcc: b@x.org"}},
        "tribute",
    ),
    ({"tribute": {"kind": "honor", "name": "G" * 101}}, "tribute"),
    ({"tribute": "Grace Hopper"}, "tribute"),
    ({"tribute": {"kind": "honor", "name": "Grace", "notify_email": "=?utf-8?q?a?=@example.org"}}, "tribute"),
    ({"tribute": {"kind": "honor", "name": "Grace", "notify_name": "=?utf-8?q?Al?="}}, "tribute"),
    ({"tribute": {"kind": "honor", "name": "Grace", "surprise": True}}, "tribute"),
    ({"email": "=?utf-8?q?a?=@example.org"}, "email"),
]


def test_a_tribute_notice_escapes_the_names_it_was_given(api: Api, stack: Stack, token: Any) -> None:
    told = unique("tribute-markup")
    tribute = {"kind": "honor", "name": "<i>Grace</i> & Co", "notify_email": told}
    paid(api, stack, token, email=unique("tribute-markup-donor"), first_name="<b>Ada</b>", tribute=tribute)
    [notice] = Mailbox(stack).wait_to(told)
    markup = notice.get_body(("html",))
    assert markup is not None
    body = str(markup.get_content())
    assert "<i>Grace</i>" not in body and "<b>Ada</b>" not in body
    assert "&lt;i&gt;Grace&lt;/i&gt; &amp; Co" in body and "in honor of" in body


@pytest.mark.parametrize(("change", "field"), HOSTILE, ids=[f"{f}-{i}" for i, (_, f) in enumerate(HOSTILE)])
def test_hostile_values_are_refused_naming_the_field(
    api: Api, stack: Stack, change: dict[str, Any], field: str
) -> None:
    answer = api.post("/donations", {**GIFT, "email": unique("hostile"), **change})
    assert answer.status_code == 422, answer.text
    named = [f["field"] for f in answer.json()["error"]["fields"]]
    assert any(name == field or name.startswith(field + ".") for name in named), named
