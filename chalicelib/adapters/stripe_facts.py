"""Stripe event → domain fact: the only place that reads a webhook event's JSON.

Reads both the shape of the pinned API version (`2025-03-31.basil`) and the older one
localstripe answers in:
- PaymentIntent: `latest_charge` is an id (basil) or expanded, with a `charges` list (older).
- Invoice: the subscription and its metadata under `parent.subscription_details` (basil) or a
  top-level `subscription` (older; `subscription_details.metadata` in 2023-2024 versions), and
  `payment_intent` / `charge` only in the older shape.
- Subscription: `current_period_end` on `items.data[0]` (basil) or at the top level (older).
- Charge: `refunds` expanded only before 2022-11-15 (and in localstripe).
A malformed object (wrong types, missing ids) reads as Unknown, never as an exception.
Imports no `stripe`: it reads plain dicts, so it is tested without the SDK or the network.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.errors import InvalidSignatureError
from chalicelib.services.facts import (
    ChargeRefunded,
    ChargeSettled,
    DisputeChanged,
    DisputeStatus,
    Fact,
    InvoiceFailed,
    InvoicePaid,
    NotOurs,
    PaymentFailed,
    PaymentSucceeded,
    PlanState,
    RefundChanged,
    RefundState,
    StripeEvent,
    SubscriptionChanged,
    Unknown,
)
from chalicelib.services.ports import PaymentIntentInfo

# Stripe's dispute statuses; warning_* are inquiries (no money moved), `prevented` ended
# before it became a dispute: the charge keeps its money, as when won.
DISPUTE_STATUSES: dict[str, DisputeStatus] = {
    "warning_needs_response": "open",
    "warning_under_review": "open",
    "needs_response": "open",
    "under_review": "open",
    "warning_closed": "won",
    "won": "won",
    "prevented": "won",
    "lost": "lost",
}
REFUND_STATES: dict[str, RefundState] = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "canceled",
}
# Stripe's subscription statuses; incomplete_expired is final (its first invoice was never paid).
PLAN_STATES: dict[str, PlanState] = {
    "active": "active",
    "trialing": "active",
    "past_due": "past_due",
    "unpaid": "past_due",
    "incomplete": "past_due",
    "paused": "past_due",
    "canceled": "canceled",
    "incomplete_expired": "canceled",
}

Translator = Callable[[dict[str, Any], int | None], Fact]


def payment_intent_info(obj: dict[str, Any]) -> PaymentIntentInfo:
    """Read a PaymentIntent as Stripe sends it (latest_charge is an id, or expanded)."""
    error = obj.get("last_payment_error")
    return PaymentIntentInfo(
        id=str(obj.get("id")),
        status=str(obj.get("status")),
        client_secret=str(obj.get("client_secret") or ""),
        charge_id=_id(obj.get("latest_charge")),
        failure_reason=_error_text(error),
        donation_id=_metadata(obj).get("donation_id"),
    )


def read_event(event: dict[str, Any], raw: str) -> StripeEvent:
    """The verified event's id, type and fact; InvalidSignatureError when it has no id, type
    or data.object (nothing Stripe signs looks like that)."""
    event_id, event_type = event.get("id"), event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(obj, dict)):
        raise InvalidSignatureError("the event has no id, type or data.object")
    fact = to_fact(event_type, obj, _int(event.get("created")))
    return StripeEvent(id=event_id, type=event_type, raw=raw, fact=fact)


def to_fact(event_type: str, obj: dict[str, Any], created: int | None = None) -> Fact:
    """What an event's `data.object` states (`created`: the event's time, for facts whose
    object carries none); Unknown for any other type or a malformed object."""
    translate = TRANSLATORS.get(event_type)
    if translate is None:
        return Unknown()
    try:
        return translate(obj, created)
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, OSError):
        return Unknown()


def _payment(kind: type[PaymentSucceeded] | type[PaymentFailed]) -> Translator:
    def translate(obj: dict[str, Any], _: int | None) -> Fact:
        if not isinstance(obj.get("id"), str):
            return Unknown()
        intent = payment_intent_info(obj)
        # Every PaymentIntent Steward creates names its gift in metadata: without it, not ours.
        return kind(intent) if intent.donation_id else NotOurs()

    return translate


def _charge_settled(obj: dict[str, Any], _: int | None) -> Fact:
    charge_id = _text(obj.get("id"))
    if charge_id is None:
        return Unknown()
    return ChargeSettled(
        charge_id=charge_id,
        payment_id=_id(obj.get("payment_intent")),
        donation_id=_metadata(obj).get("donation_id"),
    )


def _refund(obj: dict[str, Any], created: int | None) -> Fact:
    return _read_refund(obj, None, created) or Unknown()


def _read_refund(obj: Any, charge: dict[str, Any] | None, created: int | None) -> RefundChanged | None:
    if not isinstance(obj, dict):
        return None
    refund_id, amount, currency = _text(obj.get("id")), _int(obj.get("amount")), _text(obj.get("currency"))
    status = REFUND_STATES.get(str(obj.get("status")))
    at = _time(obj.get("created")) or _time(created)
    if refund_id is None or amount is None or currency is None or status is None or at is None:
        return None
    charge_id = _id(obj.get("charge")) or (_text(charge.get("id")) if charge else None)
    payment_id = _id(obj.get("payment_intent")) or (_id(charge.get("payment_intent")) if charge else None)
    metadata = _metadata(obj)
    return RefundChanged(
        refund_id=refund_id,
        steward_refund_id=metadata.get("refund_id"),
        donation_id=metadata.get("donation_id"),
        charge_id=charge_id,
        payment_id=payment_id or charge_id,
        amount=amount,
        currency=currency.lower(),
        status=status,
        reason=_text(obj.get("reason")),
        created_at=at,
        failure_reason=_text(obj.get("failure_reason")),
    )


def _refunded(obj: dict[str, Any], created: int | None) -> Fact:
    amount, refunded = _int(obj.get("amount")), _int(obj.get("amount_refunded"))
    if amount is None or refunded is None:
        return Unknown()
    listed = obj.get("refunds")
    data = listed.get("data") if isinstance(listed, dict) else None
    refunds = (_read_refund(item, obj, created) for item in data) if isinstance(data, list) else ()
    return ChargeRefunded(
        charge_id=_text(obj.get("id")),
        donation_id=_metadata(obj).get("donation_id"),
        payment_id=_id(obj.get("payment_intent")) or _text(obj.get("id")),
        amount=amount,
        amount_refunded=refunded,
        refunds=tuple(refund for refund in refunds if refund is not None),
    )


def _dispute(obj: dict[str, Any], created: int | None) -> Fact:
    dispute_id, amount, currency = _text(obj.get("id")), _int(obj.get("amount")), _text(obj.get("currency"))
    status = DISPUTE_STATUSES.get(str(obj.get("status")))
    reason, at = _text(obj.get("reason")), _time(obj.get("created")) or _time(created)
    if dispute_id is None or amount is None or currency is None or status is None:
        return Unknown()
    if reason is None or at is None:
        return Unknown()
    evidence = obj.get("evidence_details")
    charge_id = _id(obj.get("charge"))
    return DisputeChanged(
        dispute_id=dispute_id,
        charge_id=charge_id,
        payment_id=_id(obj.get("payment_intent")) or charge_id,
        amount=amount,
        currency=currency.lower(),
        reason=reason,
        status=status,
        evidence_due_by=_time(evidence.get("due_by")) if isinstance(evidence, dict) else None,
        created_at=at,
    )


def _invoice_paid(obj: dict[str, Any], created: int | None) -> Fact:
    invoice_id, subscription_id = _text(obj.get("id")), _invoice_subscription(obj)
    amount, currency = _int(obj.get("amount_paid")), _text(obj.get("currency"))
    paid_at = _time(_dig(obj, "status_transitions", "paid_at")) or _time(created)
    if invoice_id is None or subscription_id is None or amount is None or currency is None:
        return Unknown()  # an invoice of no subscription is none of Steward's
    if paid_at is None:
        return Unknown()
    return InvoicePaid(
        invoice_id=invoice_id,
        subscription_id=subscription_id,
        recurring_id=_invoice_recurring_id(obj),
        customer_id=_id(obj.get("customer")),
        payment_id=_id(obj.get("payment_intent")),
        charge_id=_id(obj.get("charge")),
        amount=amount,
        currency=currency.lower(),
        paid_at=paid_at,
        period_end=_time(_dig(_subscription_line(obj), "period", "end")),
        billing_reason=_text(obj.get("billing_reason")),
    )


def _invoice_failed(obj: dict[str, Any], created: int | None) -> Fact:
    invoice_id, subscription_id = _text(obj.get("id")), _invoice_subscription(obj)
    amount, currency = _int(obj.get("amount_due")), _text(obj.get("currency"))
    failed_at = _time(created) or _time(obj.get("created"))
    if invoice_id is None or subscription_id is None or amount is None or currency is None:
        return Unknown()
    if failed_at is None:
        return Unknown()
    return InvoiceFailed(
        invoice_id=invoice_id,
        subscription_id=subscription_id,
        recurring_id=_invoice_recurring_id(obj),
        amount=amount,
        currency=currency.lower(),
        attempt_count=_int(obj.get("attempt_count")) or 1,
        next_attempt_at=_time(obj.get("next_payment_attempt")),
        failure_reason=_invoice_failure(obj),
        failed_at=failed_at,
        billing_reason=_text(obj.get("billing_reason")),
    )


def _subscription(deleted: bool) -> Translator:
    def translate(obj: dict[str, Any], _: int | None) -> Fact:
        subscription_id, stripe_status = _text(obj.get("id")), _text(obj.get("status"))
        state = PLAN_STATES.get(stripe_status or "")
        if subscription_id is None or stripe_status is None or state is None:
            return Unknown()
        items = _dig(obj, "items", "data")
        first = items[0] if isinstance(items, list) and items else None
        period_end = _dig(first, "current_period_end") if first is not None else None
        ended = deleted or state == "canceled"
        return SubscriptionChanged(
            subscription_id=subscription_id,
            recurring_id=_metadata(obj).get("recurring_id"),
            status="canceled" if ended else state,
            stripe_status=stripe_status,
            current_period_end=_time(period_end) or _time(obj.get("current_period_end")),
            ended=ended,
        )

    return translate


def _invoice_subscription(obj: dict[str, Any]) -> str | None:
    return _id(_dig(obj, "parent", "subscription_details", "subscription")) or _id(obj.get("subscription"))


def _invoice_recurring_id(obj: dict[str, Any]) -> str | None:
    for metadata in (
        _dig(obj, "parent", "subscription_details", "metadata"),
        _dig(obj, "subscription_details", "metadata"),
        _dig(_subscription_line(obj), "metadata"),
        _dig(obj, "subscription", "metadata"),  # an expanded subscription
    ):
        if isinstance(metadata, dict) and isinstance(metadata.get("recurring_id"), str):
            return str(metadata["recurring_id"])
    return None


def _subscription_line(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The invoice line for the subscription's item (basil: parent.type
    subscription_item_details; older: type subscription), else the first line."""
    lines = _dig(obj, "lines", "data")
    if not isinstance(lines, list):
        return None
    found = [line for line in lines if isinstance(line, dict)]
    for line in found:
        if line.get("type") == "subscription" or _dig(line, "parent", "type") == "subscription_item_details":
            return line
    return found[0] if found else None


def _invoice_failure(obj: dict[str, Any]) -> str | None:
    """Why an installment failed, where the invoice says: an expanded charge or PaymentIntent
    (older shapes), else the finalization error. Basil invoices name neither."""
    charge, intent = obj.get("charge"), obj.get("payment_intent")
    if isinstance(charge, dict) and isinstance(charge.get("failure_message"), str):
        return str(charge["failure_message"])
    if isinstance(intent, dict):
        reason = _error_text(intent.get("last_payment_error"))
        if reason:
            return reason
    return _error_text(obj.get("last_finalization_error"))


def _error_text(error: Any) -> str | None:
    if not isinstance(error, dict):
        return None
    return _text(error.get("message")) or _text(error.get("code"))


def _metadata(obj: dict[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    return {key: value for key, value in metadata.items() if isinstance(key, str) and isinstance(value, str)}


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _id(value: Any) -> str | None:
    """An id as Stripe sends it: the id itself, or the expanded object's id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time(value: Any) -> str | None:
    """A Unix time as Steward writes times (UTC ISO-8601, milliseconds)."""
    seconds = _int(value)
    if seconds is None or seconds < 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    except (OverflowError, ValueError, OSError):  # past year 9999
        return None


# Every event type Steward's webhook endpoint is registered for (README, "Deploy").
TRANSLATORS: dict[str, Translator] = {
    "payment_intent.succeeded": _payment(PaymentSucceeded),
    "payment_intent.payment_failed": _payment(PaymentFailed),
    "charge.succeeded": _charge_settled,
    "charge.updated": _charge_settled,
    "charge.refunded": _refunded,
    "refund.created": _refund,
    "refund.updated": _refund,
    "charge.refund.updated": _refund,
    "charge.dispute.created": _dispute,
    "charge.dispute.updated": _dispute,
    "charge.dispute.closed": _dispute,
    "charge.dispute.funds_withdrawn": _dispute,
    "charge.dispute.funds_reinstated": _dispute,
    "invoice.paid": _invoice_paid,
    "invoice.payment_succeeded": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.created": _subscription(deleted=False),
    "customer.subscription.updated": _subscription(deleted=False),
    "customer.subscription.deleted": _subscription(deleted=True),
}
