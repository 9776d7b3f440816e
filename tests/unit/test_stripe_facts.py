"""The Stripe adapter reads real-shaped events (basil and the older shape) into facts."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from chalicelib.adapters.stripe_facts import read_event, to_fact
from chalicelib.adapters.stripe_gateway import StripePayments
from chalicelib.domain.errors import InvalidSignatureError
from chalicelib.services.facts import (
    ChargeRefunded,
    DisputeChanged,
    NotOurs,
    PaymentFailed,
    PaymentSucceeded,
    Unknown,
)
from chalicelib.services.ports import PaymentIntentInfo

GIFT_ID = "01JDQ0000000000000000000AB"
SECRET = "whsec_unit_test"


def _event(event_type: str, obj: dict[str, Any], api_version: str = "2025-03-31.basil") -> dict[str, Any]:
    return {
        "id": "evt_1QxYz2AbCdEfGhIj",
        "object": "event",
        "api_version": api_version,
        "created": 1764300000,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_abc", "idempotency_key": f"steward-confirm-{obj.get('id')}"},
        "type": event_type,
    }


# basil: latest_charge is an id; no `invoice`, no `charges` list on a PaymentIntent.
BASIL_INTENT: dict[str, Any] = {
    "id": "pi_3QxYz2AbCdEfGhIj0",
    "object": "payment_intent",
    "amount": 5000,
    "amount_received": 5000,
    "capture_method": "automatic_async",
    "client_secret": "pi_3QxYz2AbCdEfGhIj0_secret_xyz",
    "currency": "usd",
    "last_payment_error": None,
    "latest_charge": "ch_3QxYz2AbCdEfGhIj0",
    "metadata": {"donation_id": GIFT_ID, "fund": "where-needed-most"},
    "payment_method": "pm_1QxYz2AbCdEfGhIj",
    "payment_method_types": ["card"],
    "status": "succeeded",
}
# The older shape localstripe answers in: latest_charge expanded, a `charges` list, `invoice`.
OLDER_INTENT: dict[str, Any] = {
    "id": "pi_older",
    "object": "payment_intent",
    "amount": 5000,
    "currency": "usd",
    "client_secret": "pi_older_secret_abc",
    "invoice": None,
    "latest_charge": {"id": "ch_older", "object": "charge", "status": "succeeded", "amount": 5000},
    "charges": {"object": "list", "data": [{"id": "ch_older", "object": "charge"}], "has_more": False},
    "last_payment_error": None,
    "metadata": {"donation_id": GIFT_ID},
    "status": "succeeded",
}


def test_a_basil_payment_intent_success() -> None:
    fact = read_event(_event("payment_intent.succeeded", BASIL_INTENT), "{}").fact
    assert fact == PaymentSucceeded(
        PaymentIntentInfo(
            id="pi_3QxYz2AbCdEfGhIj0",
            status="succeeded",
            client_secret="pi_3QxYz2AbCdEfGhIj0_secret_xyz",
            charge_id="ch_3QxYz2AbCdEfGhIj0",
            failure_reason=None,
            donation_id=GIFT_ID,
        )
    )


def test_an_older_shape_payment_intent_success() -> None:
    event = read_event(_event("payment_intent.succeeded", OLDER_INTENT, "2020-08-27"), "raw")
    assert event.id == "evt_1QxYz2AbCdEfGhIj" and event.type == "payment_intent.succeeded"
    assert event.raw == "raw"
    assert isinstance(event.fact, PaymentSucceeded)
    assert event.fact.intent.charge_id == "ch_older"
    assert event.fact.intent.donation_id == GIFT_ID


def test_a_failed_payment_names_its_reason() -> None:
    failed = {
        **BASIL_INTENT,
        "status": "requires_payment_method",
        "last_payment_error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
            "charge": "ch_declined",
        },
        "latest_charge": "ch_declined",
    }
    fact = to_fact("payment_intent.payment_failed", failed)
    assert isinstance(fact, PaymentFailed)
    assert fact.intent.failure_reason == "Your card was declined."
    assert fact.intent.status == "requires_payment_method" and fact.intent.charge_id == "ch_declined"
    coded = to_fact(
        "payment_intent.payment_failed", {**failed, "last_payment_error": {"code": "expired_card"}}
    )
    assert isinstance(coded, PaymentFailed) and coded.intent.failure_reason == "expired_card"


def test_a_payment_intent_without_our_metadata_is_not_ours() -> None:
    assert to_fact("payment_intent.succeeded", {**BASIL_INTENT, "metadata": {}}) == NotOurs()
    assert to_fact("payment_intent.payment_failed", {**OLDER_INTENT, "metadata": None}) == NotOurs()


def test_a_refunded_charge() -> None:
    charge = {
        "id": "ch_3QxYz2AbCdEfGhIj0",
        "object": "charge",
        "amount": 5000,
        "amount_captured": 5000,
        "amount_refunded": 2000,
        "balance_transaction": "txn_1",
        "currency": "usd",
        "metadata": {"donation_id": GIFT_ID},
        "payment_intent": "pi_3QxYz2AbCdEfGhIj0",
        "refunded": False,
        "status": "succeeded",
    }
    assert to_fact("charge.refunded", charge) == ChargeRefunded(
        charge_id="ch_3QxYz2AbCdEfGhIj0",
        donation_id=GIFT_ID,
        payment_id="pi_3QxYz2AbCdEfGhIj0",
        amount=5000,
        amount_refunded=2000,
        refunds=(),
    )
    # a charge without a PaymentIntent (older charges API) is found by its own id
    bare = {**charge, "payment_intent": None, "metadata": {}}
    fact = to_fact("charge.refunded", bare)
    assert isinstance(fact, ChargeRefunded) and fact.payment_id == "ch_3QxYz2AbCdEfGhIj0"
    assert fact.donation_id is None
    assert to_fact("charge.refunded", {**charge, "amount_refunded": "2000"}) == Unknown()


DISPUTE: dict[str, Any] = {
    "id": "du_1QxYz2AbCdEfGhIj",
    "object": "dispute",
    "amount": 5000,
    "charge": "ch_3QxYz2AbCdEfGhIj0",
    "currency": "usd",
    "evidence_details": {"due_by": 1765000000, "has_evidence": False},
    "payment_intent": "pi_3QxYz2AbCdEfGhIj0",
    "reason": "fraudulent",
    "status": "needs_response",
}


def test_disputes_opened_and_closed() -> None:
    opened = to_fact("charge.dispute.created", DISPUTE)
    assert isinstance(opened, DisputeChanged) and opened.payment_id == "pi_3QxYz2AbCdEfGhIj0"
    assert opened.status == "open"
    older = to_fact("charge.dispute.created", {**DISPUTE, "payment_intent": None})
    assert isinstance(older, DisputeChanged) and older.payment_id == "ch_3QxYz2AbCdEfGhIj0"
    for status, outcome in [("won", "won"), ("warning_closed", "won"), ("lost", "lost")]:
        closed = to_fact("charge.dispute.closed", {**DISPUTE, "status": status})
        assert isinstance(closed, DisputeChanged) and closed.status == outcome
    assert to_fact("charge.dispute.closed", {**DISPUTE, "status": "under_review"}) == Unknown()


def test_other_event_types_are_unknown() -> None:
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "parent": {"subscription_details": {"subscription": "sub_1"}},
    }
    assert to_fact("invoice.paid", invoice) == Unknown()
    assert to_fact("customer.created", {"id": "cus_1", "object": "customer"}) == Unknown()


@pytest.mark.parametrize(
    "event",
    [
        {"id": "evt_1", "type": "x"},
        {"id": 5, "type": "x", "data": {"object": {}}},
        {"id": "evt_1", "data": []},
    ],
)
def test_an_event_without_id_type_or_object_is_refused(event: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignatureError):
        read_event(event, "{}")


def _sign(payload: bytes, secret: str = SECRET, stamp: int | None = None) -> str:
    t = int(time.time()) if stamp is None else stamp
    return f"t={t},v1=" + hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()


@pytest.fixture
def payments() -> StripePayments:
    return StripePayments("sk_test_unit", "pk_test_unit", SECRET, api_base="http://127.0.0.1:9")


def test_the_gateway_verifies_with_construct_event_and_answers_the_fact(payments: StripePayments) -> None:
    payload = json.dumps(_event("payment_intent.succeeded", OLDER_INTENT)).encode()
    event = payments.verify_event(payload, _sign(payload))
    assert event.raw == payload.decode()
    assert isinstance(event.fact, PaymentSucceeded) and event.fact.intent.charge_id == "ch_older"
    refund = json.dumps(_event("charge.refunded", {"id": "ch_1", "amount": 9, "amount_refunded": 9})).encode()
    assert isinstance(payments.verify_event(refund, _sign(refund)).fact, ChargeRefunded)


@pytest.mark.parametrize("body", [b"[1, 2", b"[1, 2]", b"null", b'"text"', b"\xff\xfe", b'{"id": "evt_1"}'])
def test_a_signed_body_that_is_no_event_is_refused(payments: StripePayments, body: bytes) -> None:
    signature = _sign(body) if body.isascii() else "t=1,v1=" + "0" * 64
    with pytest.raises(InvalidSignatureError):
        payments.verify_event(body, signature)


def test_forged_stale_malformed_and_non_ascii_signatures_are_refused(payments: StripePayments) -> None:
    payload = json.dumps(_event("payment_intent.succeeded", BASIL_INTENT)).encode()
    for signature in [
        None,
        "",
        "garbage",
        f"t={int(time.time())},v1=" + "0" * 64,
        f"t={int(time.time())},v1=" + "\u00e9" * 64,
        _sign(payload, stamp=int(time.time()) - 301),
        _sign(payload, secret="whsec_other"),
    ]:
        with pytest.raises(InvalidSignatureError):
            payments.verify_event(payload, signature)
