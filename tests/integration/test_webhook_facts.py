"""Facts that arrive late, out of order, twice, or for a PaymentIntent that is not ours."""

from __future__ import annotations

import requests

from chalicelib.services.ports import Repository
from devstack.stack import Stack
from tests.helpers import GIFT, Api, event, give, sign


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


def test_a_refund_before_the_success_still_shows_the_gift_was_paid(
    api: Api, stack: Stack, repo: Repository, token
) -> None:
    created = api.post("/donations", GIFT).json()
    refund = {
        "id": "ch_refund_first",
        "object": "charge",
        "amount": GIFT["amount"],
        "amount_refunded": GIFT["amount"],
        "payment_intent": "pi_refund_first",
        "metadata": {"donation_id": created["donation_id"]},
    }
    answer = deliver(api, stack, event("charge.refunded", refund))
    assert answer.status_code == 200 and answer.json()["applied"] is True
    gift = api.get(f"/staff/donations/{created['donation_id']}", token()).json()
    assert gift["status"] == "refunded"
    assert gift["succeeded_at"] is not None
    # the same fact in another event changes nothing, and says so
    repeated = deliver(api, stack, event("charge.refunded", refund))
    assert repeated.status_code == 200 and repeated.json()["applied"] is False


def test_an_event_for_a_payment_intent_not_ours_is_acknowledged(api: Api, stack: Stack) -> None:
    foreign = {"id": "pi_from_another_integration", "object": "payment_intent", "status": "succeeded"}
    answer = deliver(api, stack, event("payment_intent.succeeded", foreign))
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] is False
    dispute = {
        "id": "dp_not_ours",
        "object": "dispute",
        "status": "needs_response",
        "charge": "ch_not_ours",
        "payment_intent": "pi_not_ours_either",
    }
    answer = deliver(api, stack, event("charge.dispute.created", dispute))
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] is False
