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
from tests.stripe_events import dispute as dispute_event
from tests.stripe_events import refund as refund_event


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


def test_a_signed_body_nested_past_the_parsers_depth_gets_400(api: Api, stack: Stack) -> None:
    # json.loads raises RecursionError (not a ValueError) on it: a 400 like any body that is
    # no event, not a 500 with a traceback in the log.
    depth = 100_000
    payload = b'{"id": "evt_deep", "type": "customer.created", "data": {"object": {"a": '
    payload += b"[" * depth + b"]" * depth + b"}}}"
    answer = deliver(api, stack, payload)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_signature"


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
    from tests.integration.test_confirm_crashes import stripe_list

    listing = stripe_list(stack, "/v1/events")
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
    secret = stack.webhook_secret

    def refund(pi: str, refund_id: str, cents: int) -> bytes:
        return refund_event(
            secret, charge_id=charge_of(pi), payment_intent_id=pi, refund_id=refund_id, amount=cents
        ).payload

    def disputed_event(action: str, status: str) -> bytes:
        return dispute_event(
            secret,
            action,  # type: ignore[arg-type]
            dispute_id="dp_1",
            status=status,
            charge_id=charge_of(disputed_pi),
            payment_intent_id=disputed_pi,
        ).payload

    ours = [
        refund(refunded_pi, "re_first", 1000),
        refund(refunded_pi, "re_rest", amount - 1000),
        refund(partial_pi, "re_part", 500),
        disputed_event("created", "needs_response"),
        disputed_event("closed", "lost"),
    ]
    deliveries = (from_stripe + ours) * 3
    random.Random(7).shuffle(deliveries)
    for payload in deliveries:
        assert deliver(api, stack, payload).status_code == 200

    def gift(donation_id: str) -> dict[str, Any]:
        return api.get(f"/staff/donations/{donation_id}", token()).json()

    assert gift(paid)["display_status"] == "succeeded" and gift(paid)["net"] == amount
    assert gift(refunded)["display_status"] == "refunded" and gift(refunded)["refunded"] == amount
    assert len(gift(refunded)["refunds"]) == 2
    assert gift(partial)["display_status"] == "partially_refunded" and gift(partial)["refunded"] == 500
    assert gift(disputed)["display_status"] == "dispute_lost" and gift(disputed)["dispute"] == "lost"
    assert [d["status"] for d in gift(disputed)["disputes"]] == ["lost"]
    for donation_id in (paid, refunded, partial, disputed):
        assert gift(donation_id)["status"] == "succeeded"  # the payment itself stays paid
    assert gift(failed)["status"] == "failed" and gift(failed)["failure_reason"]

    today = time.strftime("%Y-%m-%d", time.gmtime())
    ids: list[str] = []
    cursor = None
    while True:  # every page of today's list: the suite gives more than one page a day
        query = {"from": today, "to": today, "limit": 200, **({"cursor": cursor} if cursor else {})}
        listed = api.get("/staff/donations", token(), **query).json()
        ids += [item["id"] for item in listed["items"]]
        if not (cursor := listed["cursor"]):
            break
    for donation_id in (paid, refunded, partial, disputed, failed):
        assert ids.count(donation_id) == 1
    # each effect applied once: the audit trail has one entry per status change
    audit = repo.client.query(  # type: ignore[attr-defined]
        TableName=repo.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",  # type: ignore[attr-defined]
        ExpressionAttributeValues={":pk": {"S": f"DONATION#{refunded}"}, ":a": {"S": "AUDIT#"}},
    )["Items"]
    steps = [
        (a.get("from_status", {}).get("S"), a["to_status"]["S"], a.get("refund_id", {}).get("S"))
        for a in audit
    ]
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
