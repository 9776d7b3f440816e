"""POST /webhooks/stripe: real signatures, replays out of order, refunds and disputes."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest
import requests

from chalicelib.domain.errors import PaymentDeclinedError
from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from tests.helpers import (
    CARD_DECLINED_AT_CHARGE,
    CARD_OK,
    GIFT,
    Api,
    confirm_card_setup,
    event,
    sign,
    wait_for,
)
from tests.stripe_events import dispute_object


def deliver(api: Api, stack: Stack, payload: bytes, signature: str | None = None) -> requests.Response:
    header = signature if signature is not None else sign(payload, stack.webhook_secret)
    return api.post("/webhooks/stripe", raw=payload, headers={"Stripe-Signature": header})


def stored_event(repo: Repository, event_id: str) -> dict[str, Any] | None:
    return repo._get({"pk": f"EVENT#{event_id}", "sk": "EVENT"})  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "signature",
    [
        "t={t},v1=" + "0" * 64,  # forged
        "garbage",  # malformed
        "",  # missing
        "t={t},v1=" + "\u00e9" * 64,  # not ASCII: hmac.compare_digest raises on it
    ],
)
def test_forged_or_malformed_signatures_get_400_and_write_nothing(
    api: Api, stack: Stack, repo: Repository, signature: str
) -> None:
    payload = event(
        "payment_intent.succeeded", {"id": "pi_forged", "object": "payment_intent"}, event_id="evt_forged_1"
    )
    answer = deliver(api, stack, payload, signature.format(t=int(time.time())))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_signature"
    assert stored_event(repo, "evt_forged_1") is None


def test_stale_or_wrong_secret_signatures_get_400(api: Api, stack: Stack, repo: Repository) -> None:
    payload = event("payment_intent.succeeded", {"id": "pi_stale"}, event_id="evt_stale_1")
    stale = sign(payload, stack.webhook_secret, int(time.time()) - 301)
    assert deliver(api, stack, payload, stale).status_code == 400
    wrong = sign(payload, "whsec_not_ours")
    assert deliver(api, stack, payload, wrong).status_code == 400
    tampered = sign(payload, stack.webhook_secret)
    assert deliver(api, stack, payload.replace(b"pi_stale", b"pi_other"), tampered).status_code == 400
    assert stored_event(repo, "evt_stale_1") is None


def test_non_json_signed_body_gets_400(api: Api, stack: Stack) -> None:
    payload = b"[1, 2"
    assert deliver(api, stack, payload).status_code == 400


def test_unknown_event_type_gets_200(api: Api, stack: Stack, repo: Repository) -> None:
    payload = event("customer.created", {"id": "cus_x", "object": "customer"}, event_id="evt_unknown_1")
    answer = deliver(api, stack, payload)
    assert answer.status_code == 200
    assert stored_event(repo, "evt_unknown_1")["processed"] is True


def _unsynced_gift(
    api: Api, stack: Stack, payments: Payments, repo: Repository, card: str
) -> tuple[str, str]:
    """A gift whose PaymentIntent exists at Stripe but whose confirm answer was lost:
    only webhooks can finish it. Returns (donation id, payment intent id)."""
    created = api.post("/donations", GIFT).json()
    assert confirm_card_setup(stack, created["client_secret"], card).status_code == 200
    donation = repo.get_donation(created["donation_id"])
    setup = payments.retrieve_setup_intent(donation.setup_intent_id)
    intent = payments.create_payment_intent(donation, setup.payment_method)
    try:
        payments.confirm_payment_intent(intent.id)
    except PaymentDeclinedError:
        pass
    return donation.id, intent.id


def _stripe_events(stack: Stack, payment_intents: set[str]) -> list[bytes]:
    listing = requests.get(
        f"{stack.config.stripe_url}/v1/events",
        params={"limit": 100},
        auth=("sk_test_steward_local", ""),
        timeout=10,
    ).json()["data"]
    return [
        json.dumps(e).encode()
        for e in listing
        if e["type"].startswith("payment_intent.") and e["data"]["object"]["id"] in payment_intents
    ]


def test_replayed_events_in_shuffled_order_end_in_the_right_state(
    api: Api, stack: Stack, payments: Payments, repo: Repository, token
) -> None:
    paid, paid_pi = _unsynced_gift(api, stack, payments, repo, CARD_OK)
    refunded, refunded_pi = _unsynced_gift(api, stack, payments, repo, CARD_OK)
    partial, partial_pi = _unsynced_gift(api, stack, payments, repo, CARD_OK)
    disputed, disputed_pi = _unsynced_gift(api, stack, payments, repo, CARD_OK)
    failed, failed_pi = _unsynced_gift(api, stack, payments, repo, CARD_DECLINED_AT_CHARGE)
    intents = {paid_pi, refunded_pi, partial_pi, disputed_pi, failed_pi}
    from_stripe = wait_for(lambda: (e := _stripe_events(stack, intents)) and len(e) == 5 and e)

    def charge_of(pi: str) -> str:
        return payments.retrieve_payment_intent(pi).charge_id or ""

    amount = GIFT["amount"]
    ours = [
        event(
            "charge.refunded",
            {
                "id": charge_of(refunded_pi),
                "object": "charge",
                "amount": amount,
                "amount_refunded": 1000,
                "payment_intent": refunded_pi,
            },
        ),
        event(
            "charge.refunded",
            {
                "id": charge_of(refunded_pi),
                "object": "charge",
                "amount": amount,
                "amount_refunded": amount,
                "payment_intent": refunded_pi,
            },
        ),
        event(
            "charge.refunded",
            {
                "id": charge_of(partial_pi),
                "object": "charge",
                "amount": amount,
                "amount_refunded": 500,
                "payment_intent": partial_pi,
            },
        ),
        event(
            "charge.dispute.created",
            dispute_object(
                dispute_id="dp_1",
                status="needs_response",
                charge_id=charge_of(disputed_pi),
                payment_intent_id=disputed_pi,
            ),
        ),
        event(
            "charge.dispute.closed",
            dispute_object(
                dispute_id="dp_1",
                status="lost",
                charge_id=charge_of(disputed_pi),
                payment_intent_id=disputed_pi,
            ),
        ),
    ]
    deliveries = (from_stripe + ours) * 3
    random.Random(7).shuffle(deliveries)
    for payload in deliveries:
        assert deliver(api, stack, payload).status_code == 200

    def gift(donation_id: str) -> dict[str, Any]:
        return api.get(f"/staff/donations/{donation_id}", token()).json()

    assert gift(paid)["status"] == "succeeded" and gift(paid)["net"] == amount
    assert gift(refunded)["status"] == "refunded" and gift(refunded)["amount_refunded"] == amount
    assert gift(partial)["status"] == "partially_refunded" and gift(partial)["amount_refunded"] == 500
    assert gift(disputed)["status"] == "disputed" and gift(disputed)["dispute_status"] == "lost"
    assert gift(failed)["status"] == "failed" and gift(failed)["failure_reason"]

    today = time.strftime("%Y-%m-%d", time.gmtime())
    listed = api.get("/staff/donations", token(), **{"from": today, "to": today, "limit": 200}).json()
    ids = [item["id"] for item in listed["items"]]
    for donation_id in (paid, refunded, partial, disputed, failed):
        assert ids.count(donation_id) == 1
    # each effect applied once: the audit trail has one entry per status change
    audit = repo.client.query(  # type: ignore[attr-defined]
        TableName=repo.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",  # type: ignore[attr-defined]
        ExpressionAttributeValues={":pk": {"S": f"DONATION#{refunded}"}, ":a": {"S": "AUDIT#"}},
    )["Items"]
    steps = [(a.get("from_status", {}).get("S"), a["to_status"]["S"]) for a in audit]
    assert len(steps) == len(set(steps))


def test_processing_failure_answers_5xx_and_keeps_the_raw_event(
    api: Api, stack: Stack, payments: Payments, repo: Repository
) -> None:
    donation_id, _ = _unsynced_gift(api, stack, payments, repo, CARD_OK)
    payload = event(
        "payment_intent.succeeded",
        {
            "id": "pi_missing",
            "object": "payment_intent",
            "status": "succeeded",
            "latest_charge": "ch_does_not_exist",
            "metadata": {"donation_id": donation_id},
        },
        event_id="evt_fails_once",
    )
    answer = deliver(api, stack, payload)
    assert answer.status_code == 503
    stored = stored_event(repo, "evt_fails_once")
    assert stored is not None and stored["processed"] is False
    assert json.loads(stored["payload"])["id"] == "evt_fails_once"
    assert repo.get_donation(donation_id).status == "pending"
