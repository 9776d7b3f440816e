"""The Stripe adapter reads real-shaped events (basil and the older shape) into facts."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.adapters.stripe_facts import read_event, to_fact
from chalicelib.adapters.stripe_gateway import StripePayments
from chalicelib.domain.errors import InvalidSignatureError
from chalicelib.services.facts import (
    ChargeRefunded,
    ChargeSettled,
    DisputeChanged,
    InvoiceFailed,
    InvoicePaid,
    NotOurs,
    PaymentFailed,
    PaymentSucceeded,
    RefundChanged,
    SubscriptionChanged,
    Unknown,
)
from chalicelib.services.ports import PaymentIntentInfo
from tests import stripe_events

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
    "created": 1764300000,
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
    assert to_fact("charge.dispute.closed", {**DISPUTE, "status": "gone_fishing"}) == Unknown()


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


# Recurring gifts, refunds, disputes and settlements: every event type in both shapes, built
# by tests/stripe_events.py as Stripe sends them.

T0 = 1764300000  # 2025-11-28T03:20:00Z
RECURRING_ID = "01JDQ0000000000000000000RC"


def _fact(signed: stripe_events.Signed) -> Any:
    return read_event(json.loads(signed.payload), signed.payload.decode()).fact


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize("event_type", ["invoice.paid", "invoice.payment_succeeded"])
def test_an_installment_paid_in_the_basil_shape(event_type: Any) -> None:
    signed = stripe_events.invoice_paid(
        SECRET,
        invoice_id="in_basil",
        subscription_id="sub_basil",
        customer_id="cus_basil",
        amount=2500,
        currency="usd",
        recurring_id=RECURRING_ID,
        paid_at=T0,
        period_start=T0,
        period_end=T0 + 2592000,
        event_type=event_type,
    )
    assert "subscription" not in signed.object and "payment_intent" not in signed.object
    assert _fact(signed) == InvoicePaid(
        invoice_id="in_basil",
        subscription_id="sub_basil",
        recurring_id=RECURRING_ID,
        customer_id="cus_basil",
        payment_id=None,
        charge_id=None,
        amount=2500,
        currency="usd",
        paid_at=_iso(T0),
        period_end=_iso(T0 + 2592000),
        billing_reason="subscription_cycle",
    )


def test_an_installment_paid_in_the_older_shape_names_its_payment() -> None:
    signed = stripe_events.invoice_paid(
        SECRET,
        invoice_id="in_older",
        subscription_id="sub_older",
        amount=1000,
        currency="EUR",
        recurring_id=RECURRING_ID,
        paid_at=T0,
        period_start=T0,
        period_end=T0 + 100,
        payment_intent_id="pi_older",
        charge_id="ch_older",
        event_type="invoice.payment_succeeded",
        older=True,
    )
    assert "parent" not in signed.object
    fact = _fact(signed)
    assert isinstance(fact, InvoicePaid)
    assert (fact.subscription_id, fact.payment_id, fact.charge_id) == ("sub_older", "pi_older", "ch_older")
    assert fact.recurring_id == RECURRING_ID and fact.currency == "eur" and fact.amount == 1000
    assert fact.period_end == _iso(T0 + 100)
    # without subscription_details (before 2023), the subscription line's metadata names the plan
    bare = {**signed.object, "subscription_details": None}
    assert getattr(to_fact("invoice.paid", bare, T0), "recurring_id", None) == RECURRING_ID
    # expanded subscription and payment objects read as their ids
    expanded = {**signed.object, "subscription": {"id": "sub_older"}, "charge": {"id": "ch_older"}}
    assert to_fact("invoice.paid", expanded, T0) == fact


def test_an_invoice_of_no_subscription_or_without_its_paid_time_is_unknown() -> None:
    basil = stripe_events.invoice_paid(SECRET, subscription_id="sub_x", paid_at=T0).object
    assert to_fact("invoice.paid", {**basil, "parent": None}) == Unknown()
    undated = {**basil, "status_transitions": {"paid_at": None}}
    assert to_fact("invoice.paid", undated) == Unknown()
    assert isinstance(to_fact("invoice.paid", undated, T0), InvoicePaid)  # the event's time


def test_a_failed_installment_in_both_shapes() -> None:
    basil = stripe_events.invoice_failed(
        SECRET,
        invoice_id="in_failed",
        subscription_id="sub_basil",
        amount=2500,
        recurring_id=RECURRING_ID,
        attempt_count=2,
        next_attempt_at=T0 + 86400,
        failed_at=T0,
    )
    assert _fact(basil) == InvoiceFailed(
        invoice_id="in_failed",
        subscription_id="sub_basil",
        recurring_id=RECURRING_ID,
        amount=2500,
        currency="usd",
        attempt_count=2,
        next_attempt_at=_iso(T0 + 86400),
        failure_reason=None,  # a basil invoice names no charge
        failed_at=_iso(T0),
        billing_reason="subscription_cycle",
    )
    older = stripe_events.invoice_failed(
        SECRET,
        subscription_id="sub_older",
        failure_message="Your card was declined.",
        attempt_count=4,
        next_attempt_at=None,
        older=True,
    )
    fact = _fact(older)
    assert isinstance(fact, InvoiceFailed) and fact.subscription_id == "sub_older"
    assert fact.failure_reason == "Your card was declined."
    assert fact.next_attempt_at is None and fact.attempt_count == 4


@pytest.mark.parametrize("older", [False, True])
def test_subscription_created_updated_and_deleted(older: bool) -> None:
    common: dict[str, Any] = {
        "subscription_id": "sub_1",
        "recurring_id": RECURRING_ID,
        "current_period_start": T0,
        "current_period_end": T0 + 2592000,
        "older": older,
    }
    created = stripe_events.subscription_changed(SECRET, created=True, status="incomplete", **common)
    assert created.type == "customer.subscription.created"
    assert ("current_period_end" in created.object) is older
    assert _fact(created) == SubscriptionChanged(
        subscription_id="sub_1",
        recurring_id=RECURRING_ID,
        status="past_due",
        stripe_status="incomplete",
        current_period_end=_iso(T0 + 2592000),
        ended=False,
    )
    for stripe_status, state in [("active", "active"), ("trialing", "active"), ("past_due", "past_due"),
                                 ("unpaid", "past_due"), ("incomplete_expired", "canceled")]:  # fmt: skip
        fact = _fact(stripe_events.subscription_changed(SECRET, status=stripe_status, **common))
        assert isinstance(fact, SubscriptionChanged) and fact.status == state, stripe_status
        assert fact.ended is (state == "canceled")
    deleted = _fact(stripe_events.subscription_changed(SECRET, deleted=True, **common))
    assert isinstance(deleted, SubscriptionChanged) and deleted.ended and deleted.status == "canceled"
    # a `.deleted` event ends the plan whatever status word it carries
    odd = _fact(stripe_events.subscription_changed(SECRET, deleted=True, status="past_due", **common))
    assert isinstance(odd, SubscriptionChanged) and odd.ended and odd.status == "canceled"


@pytest.mark.parametrize("older", [False, True])
@pytest.mark.parametrize("event_type", ["refund.created", "refund.updated", "charge.refund.updated"])
def test_a_refund_as_it_stands(event_type: Any, older: bool) -> None:
    signed = stripe_events.refund(
        SECRET,
        refund_id="re_1",
        charge_id="ch_1",
        payment_intent_id="pi_1",
        amount=700,
        currency="usd",
        status="pending",
        reason="duplicate",
        metadata={"refund_id": "01JDQ0000000000000000000RF", "donation_id": GIFT_ID},
        created=T0,
        event_type=event_type,
        older=older,
    )
    assert _fact(signed) == RefundChanged(
        refund_id="re_1",
        steward_refund_id="01JDQ0000000000000000000RF",
        donation_id=GIFT_ID,
        charge_id="ch_1",
        payment_id="pi_1",
        amount=700,
        currency="usd",
        status="pending",
        reason="duplicate",
        created_at=_iso(T0),
    )


def test_refund_states_and_a_refund_made_in_the_dashboard() -> None:
    dashboard = stripe_events.refund(SECRET, charge_id="ch_2", status="requires_action", reason=None).object
    fact = to_fact("refund.created", dashboard)
    assert isinstance(fact, RefundChanged) and fact.status == "pending"
    assert fact.steward_refund_id is None and fact.donation_id is None and fact.reason is None
    assert fact.payment_id == "ch_2"  # no PaymentIntent: found by its charge
    failed = stripe_events.refund(SECRET, charge_id="ch_2", status="failed", event_type="refund.updated")
    assert getattr(_fact(failed), "status", None) == "failed"
    assert to_fact("refund.updated", {**dashboard, "status": "mystery"}) == Unknown()


def test_a_refunded_charge_lists_its_refunds_only_in_the_older_shape() -> None:
    basil = stripe_events.charge_refunded(
        SECRET, charge_id="ch_3", payment_intent_id="pi_3", amount=2500, amount_refunded=1000,
        metadata={"donation_id": GIFT_ID},
    )  # fmt: skip
    assert "refunds" not in basil.object
    assert _fact(basil) == ChargeRefunded(
        charge_id="ch_3",
        donation_id=GIFT_ID,
        payment_id="pi_3",
        amount=2500,
        amount_refunded=1000,
        refunds=(),
    )
    listed = [
        stripe_events.refund_object(charge_id="ch_3", amount=600, refund_id="re_a", created=T0, older=True),
        stripe_events.refund_object(charge_id="ch_3", amount=400, refund_id="re_b", created=T0, older=True),
        {"id": "re_broken", "amount": "400"},  # a malformed entry is left out
    ]
    older = stripe_events.charge_refunded(
        SECRET, charge_id="ch_3", payment_intent_id="pi_3", amount_refunded=1000, refunds=listed, older=True
    )
    fact = _fact(older)
    assert isinstance(fact, ChargeRefunded)
    assert [(r.refund_id, r.amount, r.charge_id, r.payment_id) for r in fact.refunds] == [
        ("re_a", 600, "ch_3", "pi_3"),
        ("re_b", 400, "ch_3", "pi_3"),
    ]


@pytest.mark.parametrize("action", ["created", "updated", "closed", "funds_withdrawn", "funds_reinstated"])
def test_a_dispute_in_the_basil_shape(action: Any) -> None:
    signed = stripe_events.dispute(
        SECRET,
        action,
        dispute_id="du_1",
        charge_id="ch_4",
        payment_intent_id="pi_4",
        amount=2500,
        reason="product_not_received",
        status="under_review",
        evidence_due_by=T0 + 604800,
        created=T0,
    )
    assert signed.type == f"charge.dispute.{action}"
    assert _fact(signed) == DisputeChanged(
        dispute_id="du_1",
        charge_id="ch_4",
        payment_id="pi_4",
        amount=2500,
        currency="usd",
        reason="product_not_received",
        status="open",
        evidence_due_by=_iso(T0 + 604800),
        created_at=_iso(T0),
    )


def test_dispute_statuses_and_the_older_shape() -> None:
    for stripe_status, status in [("warning_needs_response", "open"), ("needs_response", "open"),
                                  ("warning_under_review", "open"), ("won", "won"),
                                  ("warning_closed", "won"), ("lost", "lost")]:  # fmt: skip
        fact = _fact(stripe_events.dispute(SECRET, "closed", charge_id="ch_5", status=stripe_status))
        assert isinstance(fact, DisputeChanged) and fact.status == status, stripe_status
    older = stripe_events.dispute(SECRET, charge_id="ch_5", older=True)
    assert "payment_intent" not in older.object and older.object["id"].startswith("dp_")
    fact = _fact(older)
    assert isinstance(fact, DisputeChanged) and fact.payment_id == "ch_5" and fact.charge_id == "ch_5"
    assert to_fact("charge.dispute.updated", {**older.object, "status": "unheard_of"}) == Unknown()


@pytest.mark.parametrize("older", [False, True])
@pytest.mark.parametrize("event_type", ["charge.succeeded", "charge.updated"])
def test_a_charge_whose_settlement_may_have_changed(event_type: Any, older: bool) -> None:
    signed = stripe_events.charge_updated(
        SECRET,
        charge_id="ch_6",
        payment_intent_id="pi_6",
        metadata={"donation_id": GIFT_ID},
        balance_transaction="txn_6",
        event_type=event_type,
        older=older,
    )
    assert _fact(signed) == ChargeSettled(charge_id="ch_6", payment_id="pi_6", donation_id=GIFT_ID)
    bare = {**signed.object, "payment_intent": None, "metadata": {}}
    assert to_fact(event_type, bare) == ChargeSettled(charge_id="ch_6", payment_id=None, donation_id=None)


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("invoice.paid", {"id": "in_1", "amount_paid": "2500", "currency": "usd", "subscription": "sub_1"}),
    ("invoice.paid", {"id": None, "amount_paid": 2500, "currency": "usd", "subscription": "sub_1"}),
    ("invoice.paid", {"id": "in_1", "amount_paid": 2500, "currency": "usd", "parent": "sub_1"}),
    ("invoice.payment_failed", {"id": "in_1", "amount_due": 1, "currency": 5, "subscription": "sub_1"}),
    ("customer.subscription.updated", {"id": "sub_1", "status": 3}),
    ("customer.subscription.deleted", {"id": ["sub_1"], "status": "canceled"}),
    ("customer.subscription.created", {"status": "active", "items": {"data": []}}),
    (
        "refund.created",
        {"id": "re_1", "amount": True, "currency": "usd", "status": "succeeded", "created": 1},
    ),
    ("refund.updated", {"amount": 1, "currency": "usd", "status": "succeeded", "created": 1}),
    ("charge.refunded", {"id": "ch_1", "amount": 1.5, "amount_refunded": 1}),
    ("charge.dispute.created", {"id": "du_1", "amount": 1, "currency": "usd", "status": "lost"}),
    ("charge.dispute.closed", {"id": 7, "amount": 1, "currency": "usd", "status": "lost", "reason": "x"}),
    ("charge.updated", {"id": None}),
    ("charge.succeeded", {"object": "charge"}),
    ("payment_intent.succeeded", {"status": "succeeded", "metadata": {"donation_id": GIFT_ID}}),
]


@pytest.mark.parametrize(("event_type", "obj"), MALFORMED)
def test_a_malformed_object_is_unknown_never_an_exception(event_type: str, obj: dict[str, Any]) -> None:
    assert to_fact(event_type, obj, T0) == Unknown()


def test_a_subscription_period_end_in_either_place() -> None:
    basil = stripe_events.subscription_object(subscription_id="sub_p", current_period_end=T0)
    assert basil["items"]["data"][0]["current_period_end"] == T0
    fact = to_fact("customer.subscription.updated", basil)
    assert getattr(fact, "current_period_end", None) == _iso(T0)
    nowhere = {**basil, "items": {"data": []}}
    assert getattr(to_fact("customer.subscription.updated", nowhere), "current_period_end", 0) is None


def test_a_time_out_of_range_is_no_time() -> None:
    far = stripe_events.refund_object(charge_id="ch_7", created=10**20)
    assert getattr(to_fact("refund.created", far, T0), "created_at", None) == _iso(T0)  # the event's
    assert to_fact("refund.created", far) == Unknown()
    failed = stripe_events.invoice_failed(SECRET, subscription_id="sub_7", next_attempt_at=10**20).object
    assert getattr(to_fact("invoice.payment_failed", failed, T0), "next_attempt_at", 0) is None
