"""Disputes and fee/net changes Stripe reports for a paid gift, against the local stack:
signed events (localstripe sends no dispute events), a finance alert per dispute, replays and
shuffled deliveries, and balance transactions changed at localstripe."""

from __future__ import annotations

import random
import time
from typing import Any

import requests

from chalicelib.domain.receipts import format_date
from chalicelib.services.ports import Repository
from devstack.stack import Stack
from tests.helpers import Api, Mailbox, plain_text, wait_for
from tests.integration.test_refunds import audit_of, deliver, paid_gift, post_refund, staff_view
from tests.stripe_events import Signed, charge_updated, dispute

SECRET_KEY = "sk_test_steward_local"


def finance_inbox() -> str:
    from chalicelib.bootstrap import get_settings

    return get_settings().finance_inbox


def alerts(stack: Stack, donation_id: str) -> list[Any]:
    return [m for m in Mailbox(stack).to(finance_inbox()) if donation_id in str(m["Subject"])]


def settled_alerts(stack: Stack, donation_id: str) -> list[Any]:
    wait_for(lambda: alerts(stack, donation_id), timeout=20)
    time.sleep(1.5)
    return alerts(stack, donation_id)


def lifecycle(stack: Stack, gift: dict[str, Any], outcome: str, due: int, older: bool) -> list[Signed]:
    """A dispute opened, reviewed, then closed won or lost, as Stripe sends it."""
    common: dict[str, Any] = {
        "charge_id": gift["charge_id"],
        "dispute_id": f"{'dp' if older else 'du'}_{gift['id']}",
        "amount": gift["amount"],
        "reason": "product_not_received",
        "evidence_due_by": due,
        "older": older,
    }
    if not older:
        common["payment_intent_id"] = gift["payment_intent_id"]
    secret = stack.webhook_secret
    return [
        dispute(secret, "created", status="needs_response", **common),
        dispute(secret, "updated", status="under_review", **common),
        dispute(secret, "closed", status=outcome, **common),
    ]


def check_closed(api: Api, stack: Stack, token: Any, gift_id: str, outcome: str, due: int) -> None:
    gift = staff_view(api, token, gift_id)
    assert [d["status"] for d in gift["disputes"]] == [outcome]
    assert gift["disputes"][0]["reason"] == "product_not_received"
    assert gift["dispute"] == outcome and gift["status"] == "succeeded"
    assert gift["display_status"] == ("succeeded" if outcome == "won" else "dispute_lost")
    mails = settled_alerts(stack, gift_id)
    assert len(mails) == 1, [m["Subject"] for m in mails]
    text = plain_text(mails[0])
    assert "$25.00" in text and "product_not_received" in text
    assert format_date(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(due))) in text


def test_a_dispute_won_and_one_lost_each_leave_one_record_and_one_alert(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    due = int(time.time()) + 10 * 86400
    for outcome, older in (("won", False), ("lost", True)):
        gift_id, _ = paid_gift(api, stack)
        gift = staff_view(api, token, gift_id)
        opened, reviewed, closed = lifecycle(stack, gift, outcome, due, older)
        assert deliver(api, opened)["applied"] is True
        gift = staff_view(api, token, gift_id)
        assert gift["display_status"] == "disputed" and gift["dispute"] == "open"
        assert [d["status"] for d in gift["disputes"]] == ["open"]
        assert gift["disputes"][0]["evidence_due_by"]
        assert deliver(api, reviewed)["applied"] is False  # still open: nothing new
        assert staff_view(api, token, gift_id)["display_status"] == "disputed"
        assert deliver(api, closed)["applied"] is True
        for signed in (opened, reviewed, closed):
            assert deliver(api, signed).get("duplicate") is True
        check_closed(api, stack, token, gift_id, outcome, due)
        entries = audit_of(repo, gift_id)
        dispute_entries = [e for e in entries if e.get("dispute_id")]
        assert len(dispute_entries) == 2 and {e["actor"] for e in dispute_entries} == {"stripe"}
        assert all(e.get("actor") for e in entries)


def test_dispute_events_in_any_order_end_the_same(api: Api, stack: Stack, token: Any) -> None:
    due = int(time.time()) + 5 * 86400
    gifts = {outcome: paid_gift(api, stack)[0] for outcome in ("won", "lost")}
    deliveries: list[Signed] = []
    for outcome, gift_id in gifts.items():
        deliveries += lifecycle(stack, staff_view(api, token, gift_id), outcome, due, outcome == "lost")
    deliveries = deliveries * 3
    random.Random(11).shuffle(deliveries)
    for signed in deliveries:
        answer = api.post("/webhooks/stripe", raw=signed.payload, headers=signed.headers)
        assert answer.status_code == 200, answer.text
    for outcome, gift_id in gifts.items():
        check_closed(api, stack, token, gift_id, outcome, due)


def test_a_closed_dispute_reported_first_is_not_reopened(api: Api, stack: Stack, token: Any) -> None:
    due = int(time.time()) + 7 * 86400
    gift_id, _ = paid_gift(api, stack)
    opened, reviewed, closed = lifecycle(stack, staff_view(api, token, gift_id), "won", due, False)
    for signed in (closed, reviewed, opened):
        deliver(api, signed)
    check_closed(api, stack, token, gift_id, "won", due)


def balance_transaction(stack: Stack, charge_id: str) -> str:
    charge = requests.get(
        f"{stack.config.stripe_url}/v1/charges/{charge_id}", auth=(SECRET_KEY, ""), timeout=10
    ).json()
    return str(charge["balance_transaction"])


def adjust(stack: Stack, txn: str, **changes: Any) -> None:
    answer = requests.post(
        f"{stack.config.stripe_url}/_config/balance_transactions/{txn}", data=changes, timeout=10
    )
    assert answer.status_code == 200, answer.text


def test_a_changed_balance_transaction_updates_fee_and_net(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    gift_id, _ = paid_gift(api, stack)
    gift = staff_view(api, token, gift_id)
    assert (gift["fee"], gift["net"], gift["settlement_currency"]) == (0, 2500, "usd")  # localstripe's
    txn = balance_transaction(stack, gift["charge_id"])
    adjust(stack, txn, fee=103)

    def updated() -> Signed:
        return charge_updated(
            stack.webhook_secret,
            charge_id=gift["charge_id"],
            payment_intent_id=gift["payment_intent_id"],
            metadata={"donation_id": gift_id},
            balance_transaction=txn,
        )

    first = updated()
    assert deliver(api, first)["applied"] is True
    assert deliver(api, first).get("duplicate") is True
    assert deliver(api, updated())["applied"] is False  # the same numbers again
    now = staff_view(api, token, gift_id)
    assert (now["fee"], now["net"], now["settlement_currency"]) == (103, 2397, "usd")
    assert post_refund(api, token, gift_id, {"amount": 1000, "reason": "other"}).status_code == 201
    assert staff_view(api, token, gift_id)["net_after_refunds"] == 1397

    adjust(stack, txn, amount=2310, currency="EUR", exchange_rate=0.924, fee=95)
    assert deliver(api, updated())["applied"] is True
    now = staff_view(api, token, gift_id)
    assert (now["fee"], now["net"], now["settlement_currency"]) == (95, 2215, "eur")
    assert now["net_after_refunds"] is None  # net in euros, refunds in dollars
    assert now["amount"] == 2500 and now["currency"] == "usd"
    settled = [e for e in audit_of(repo, gift_id) if e["source"] == "charge.updated"]
    assert len(settled) == 2 and {e["actor"] for e in settled} == {"stripe"}
