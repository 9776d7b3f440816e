"""Facts that arrive late, out of order, twice, or for a PaymentIntent that is not ours."""

from __future__ import annotations

from typing import Any

import requests

from chalicelib.services.ports import Repository
from devstack.stack import Stack
from tests.helpers import GIFT, Api, event, give, sign
from tests.stripe_events import dispute_object
from tests.stripe_events import refund as refund_event


def deliver(api: Api, stack: Stack, payload: bytes) -> requests.Response:
    signature = sign(payload, stack.webhook_secret)
    return api.post("/webhooks/stripe", raw=payload, headers={"Stripe-Signature": signature})


def test_a_late_failure_on_a_paid_gift_changes_nothing(api: Api, stack: Stack, token) -> None:
    donation_id, confirmed = give(api, stack)
    assert confirmed.json()["status"] == "succeeded"
    gift = api.get(f"/staff/donations/{donation_id}", token()).json()
    failed = {
        "id": gift["payment_intent_id"],
        "object": "payment_intent",
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
        "metadata": {"donation_id": donation_id},
    }
    answer = deliver(api, stack, event("payment_intent.payment_failed", failed))
    assert answer.status_code == 200
    assert answer.json()["applied"] is False
    after = api.get(f"/staff/donations/{donation_id}", token()).json()
    assert after["status"] == "succeeded" and after["failure_reason"] is None
    assert after["version"] == gift["version"]
    again = api.post(f"/donations/{donation_id}/confirm", {}).json()
    assert again["status"] == "succeeded" and again["failure_reason"] is None


def test_a_refund_before_the_success_is_kept_under_the_gift(api: Api, stack: Stack, token) -> None:
    created = api.post("/donations", GIFT).json()
    donation_id = created["donation_id"]
    early = refund_event(
        stack.webhook_secret,
        charge_id="ch_refund_first",
        payment_intent_id="pi_refund_first",
        refund_id="re_refund_first",
        amount=GIFT["amount"],
        metadata={"donation_id": donation_id},
    )
    answer = api.post("/webhooks/stripe", raw=early.payload, headers=early.headers)
    assert answer.status_code == 200 and answer.json()["applied"] is True
    gift = api.get(f"/staff/donations/{donation_id}", token()).json()
    assert gift["status"] == "pending"  # the payment's own fact has not come yet
    assert [r["stripe_refund_id"] for r in gift["refunds"]] == ["re_refund_first"]
    assert gift["refunded"] == GIFT["amount"]
    # the same fact in another event changes nothing, and says so
    again = refund_event(
        stack.webhook_secret,
        charge_id="ch_refund_first",
        payment_intent_id="pi_refund_first",
        refund_id="re_refund_first",
        amount=GIFT["amount"],
        metadata={"donation_id": donation_id},
    )
    repeated = api.post("/webhooks/stripe", raw=again.payload, headers=again.headers)
    assert repeated.status_code == 200 and repeated.json()["applied"] is False


def test_an_event_for_a_payment_intent_not_ours_is_acknowledged(api: Api, stack: Stack) -> None:
    foreign = {"id": "pi_from_another_integration", "object": "payment_intent", "status": "succeeded"}
    answer = deliver(api, stack, event("payment_intent.succeeded", foreign))
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] is False
    dispute = dispute_object(
        dispute_id="dp_not_ours", charge_id="ch_not_ours", payment_intent_id="pi_not_ours_either"
    )
    answer = deliver(api, stack, event("charge.dispute.created", dispute))
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] is False


def test_a_success_after_a_declined_attempt_records_the_charge_that_paid(
    api: Api, stack: Stack, repo: Repository
) -> None:
    import stripe

    created = api.post("/donations", GIFT).json()
    donation_id = created["donation_id"]
    client = stripe.StripeClient("sk_test_steward_local", base_addresses={"api": stack.config.stripe_url})
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = client.v1.payment_methods.create({"type": "card", "card": card})  # type: ignore[typeddict-item]
    intent = client.v1.payment_intents.create(
        {
            "amount": GIFT["amount"],
            "currency": "usd",
            "payment_method": method.id,
            "payment_method_types": ["card"],
            "metadata": {"donation_id": donation_id},
        }
    )
    declined = {  # the first card was declined: the PaymentIntent names that failed charge
        "id": intent.id,
        "object": "payment_intent",
        "status": "requires_payment_method",
        "latest_charge": "ch_declined_first",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
        "metadata": {"donation_id": donation_id},
    }
    assert deliver(api, stack, event("payment_intent.payment_failed", declined)).status_code == 200
    client.v1.payment_intents.confirm(intent.id)  # then the donor paid with another card
    paid = client.v1.payment_intents.retrieve(intent.id).to_dict()
    charge = paid["latest_charge"]  # localstripe expands it; Stripe sends its id
    charge_id = charge["id"] if isinstance(charge, dict) else charge
    assert paid["status"] == "succeeded" and charge_id
    answer = deliver(api, stack, event("payment_intent.succeeded", paid))
    assert answer.status_code == 200
    gift = repo.get_donation(donation_id)
    assert gift is not None and gift.status == "succeeded"
    assert gift.charge_id == charge_id  # not the declined one
    assert gift.fee is not None and gift.failure_reason is None
    assert repo.stripe_target(charge_id).donation_id == donation_id


def test_every_audit_entry_of_a_gift_names_its_actor(api: Api, stack: Stack, repo: Any, token) -> None:
    """Who changed the gift: the donor (creating and confirming it), Stripe (its events) or
    the system (the sweep), on every entry, as finance reads the trail."""
    donation_id, confirmed = give(api, stack)
    assert confirmed.json()["status"] == "succeeded"
    gift = api.get(f"/staff/donations/{donation_id}", token()).json()
    refunded = refund_event(
        stack.webhook_secret, charge_id=gift["charge_id"], payment_intent_id=gift["payment_intent_id"]
    )
    assert deliver(api, stack, refunded.payload).json()["applied"] is True
    entries = repo.client.query(
        TableName=repo.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
        ExpressionAttributeValues={":pk": {"S": f"DONATION#{donation_id}"}, ":a": {"S": "AUDIT#"}},
    )["Items"]
    actors = {(e["source"]["S"], e.get("actor", {}).get("S")) for e in entries}
    assert ("api", "donor") in actors and ("confirm", "donor") in actors, actors
    assert ("refund.created", "stripe") in actors, actors
    assert all(actor for _, actor in actors), actors
