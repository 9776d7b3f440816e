"""Signed webhook bodies shaped as Stripe sends them at the pinned API version
(`2025-03-31.basil`), and with `older=True` as older versions and localstripe do, where the
shape differs. Times are Unix seconds, money minor units, as in Stripe's JSON.

Each builder answers a `Signed`: post `payload` with `headers` to /webhooks/stripe; `object`
is the event's `data.object`, for tests that read it directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from tests.helpers import event, sign

BASIL = "2025-03-31.basil"
OLDER = "2020-08-27"


@dataclass(frozen=True)
class Signed:
    """A webhook delivery: its event type, data.object, raw body and Stripe-Signature."""

    type: str
    object: dict[str, Any]
    payload: bytes
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Stripe-Signature": self.signature}


def _id(prefix: str) -> str:
    return f"{prefix}_test{time.time_ns()}"


def _now() -> int:
    return int(time.time())


def _signed(
    secret: str, event_type: str, obj: dict[str, Any], older: bool, event_id: str | None, created: int | None
) -> Signed:
    payload = event(event_type, obj, event_id, api_version=OLDER if older else BASIL, created=created)
    return Signed(type=event_type, object=obj, payload=payload, signature=sign(payload, secret))


def _month_after(start: int) -> int:
    return start + 30 * 86400


def invoice_object(
    *,
    invoice_id: str | None = None,
    subscription_id: str,
    customer_id: str = "cus_test_donor",
    amount: int = 2500,
    currency: str = "usd",
    status: Literal["paid", "open"] = "paid",
    recurring_id: str | None = None,
    metadata: dict[str, str] | None = None,
    paid_at: int | None = None,
    period_start: int | None = None,
    period_end: int | None = None,
    attempt_count: int = 1,
    next_attempt_at: int | None = None,
    billing_reason: str = "subscription_cycle",
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    failure_message: str | None = None,
    older: bool = False,
) -> dict[str, Any]:
    """An Invoice of a subscription. basil: `parent.subscription_details` names the subscription
    and a snapshot of its metadata, lines carry `parent.subscription_item_details` and
    `pricing`; no `subscription`, `payment_intent`, `charge` or `paid`. Older: those top-level
    fields, `subscription_details.metadata`, and lines of type `subscription` with a `plan`;
    a failed one's `charge` is expanded with its failure_message."""
    invoice_id = invoice_id or _id("in")
    start = period_start if period_start is not None else _now()
    end = period_end if period_end is not None else _month_after(start)
    paid = status == "paid"
    paid_time = (paid_at if paid_at is not None else _now()) if paid else None
    sub_metadata = {**({"recurring_id": recurring_id} if recurring_id else {}), **(metadata or {})}
    line: dict[str, Any] = {
        "id": _id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": currency,
        "description": f"1 \u00d7 Monthly gift (at {amount / 100:.2f} / month)",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(sub_metadata),
        "period": {"end": end, "start": start},
        "quantity": 1,
        "taxes": [],
    }
    obj: dict[str, Any] = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempt_count": attempt_count,
        "attempted": True,
        "auto_advance": not paid,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": start,
        "currency": currency,
        "customer": customer_id,
        "customer_email": "donor@example.org",
        "default_payment_method": None,
        "description": None,
        "discounts": [],
        "effective_at": start,
        "ending_balance": 0,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_test/{invoice_id}",
        "last_finalization_error": None,
        "lines": {
            "object": "list",
            "data": [line],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None if paid else next_attempt_at,
        "number": "STEWARD-0001",
        "period_end": start,
        "period_start": start,
        "starting_balance": 0,
        "status": status,
        "status_transitions": {
            "finalized_at": start,
            "marked_uncollectible_at": None,
            "paid_at": paid_time,
            "voided_at": None,
        },
        "subtotal": amount,
        "total": amount,
        "webhooks_delivered_at": start,
    }
    if older:
        line.update(
            type="subscription",
            subscription=subscription_id,
            subscription_item=_id("si"),
            proration=False,
            plan={"id": f"steward-month-{currency}-{amount}", "object": "plan", "amount": amount},
        )
        charge: Any = charge_id
        if not paid and failure_message is not None:
            charge = {
                "id": charge_id or _id("ch"),
                "object": "charge",
                "status": "failed",
                "failure_code": "card_declined",
                "failure_message": failure_message,
            }
        obj.update(
            subscription=subscription_id,
            subscription_details={"metadata": dict(sub_metadata)},
            payment_intent=payment_intent_id,
            charge=charge,
            paid=paid,
        )
    else:
        line["parent"] = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id,
                "subscription_item": _id("si"),
            },
            "type": "subscription_item_details",
        }
        line["pricing"] = {
            "price_details": {"price": f"steward-month-{currency}-{amount}", "product": "prod_steward_gift"},
            "type": "price_details",
            "unit_amount_decimal": str(amount),
        }
        obj.update(
            amount_overpaid=0,
            parent={
                "quote_details": None,
                "subscription_details": {"metadata": dict(sub_metadata), "subscription": subscription_id},
                "type": "subscription_details",
            },
        )
    return obj


def invoice_paid(
    secret: str,
    *,
    subscription_id: str,
    invoice_id: str | None = None,
    customer_id: str = "cus_test_donor",
    amount: int = 2500,
    currency: str = "usd",
    recurring_id: str | None = None,
    metadata: dict[str, str] | None = None,
    paid_at: int | None = None,
    period_start: int | None = None,
    period_end: int | None = None,
    billing_reason: str = "subscription_cycle",
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    event_type: Literal["invoice.paid", "invoice.payment_succeeded"] = "invoice.paid",
    older: bool = False,
    event_id: str | None = None,
) -> Signed:
    """`invoice.paid` (or `invoice.payment_succeeded`): one installment paid. `payment_intent_id`
    and `charge_id` appear only with `older=True` (basil invoices do not name them)."""
    obj = invoice_object(
        invoice_id=invoice_id,
        subscription_id=subscription_id,
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        recurring_id=recurring_id,
        metadata=metadata,
        paid_at=paid_at,
        period_start=period_start,
        period_end=period_end,
        billing_reason=billing_reason,
        payment_intent_id=payment_intent_id,
        charge_id=charge_id,
        older=older,
    )
    return _signed(secret, event_type, obj, older, event_id, paid_at)


def invoice_failed(
    secret: str,
    *,
    subscription_id: str,
    invoice_id: str | None = None,
    customer_id: str = "cus_test_donor",
    amount: int = 2500,
    currency: str = "usd",
    recurring_id: str | None = None,
    metadata: dict[str, str] | None = None,
    attempt_count: int = 1,
    next_attempt_at: int | None = None,
    failed_at: int | None = None,
    period_start: int | None = None,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    failure_message: str | None = "Your card was declined.",
    older: bool = False,
    event_id: str | None = None,
) -> Signed:
    """`invoice.payment_failed`: an installment declined; `next_attempt_at` None when Stripe
    will not retry. The failure message is in the event only with `older=True` (an expanded
    charge); basil invoices carry none. `failed_at` is the event's `created`."""
    obj = invoice_object(
        invoice_id=invoice_id,
        subscription_id=subscription_id,
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        status="open",
        recurring_id=recurring_id,
        metadata=metadata,
        attempt_count=attempt_count,
        next_attempt_at=next_attempt_at,
        period_start=period_start,
        payment_intent_id=payment_intent_id,
        charge_id=charge_id,
        failure_message=failure_message,
        older=older,
    )
    return _signed(secret, "invoice.payment_failed", obj, older, event_id, failed_at)


def subscription_object(
    *,
    subscription_id: str,
    customer_id: str = "cus_test_donor",
    status: str = "active",
    recurring_id: str | None = None,
    metadata: dict[str, str] | None = None,
    amount: int = 2500,
    currency: str = "usd",
    interval: Literal["month", "year"] = "month",
    current_period_start: int | None = None,
    current_period_end: int | None = None,
    canceled_at: int | None = None,
    latest_invoice: str | None = None,
    older: bool = False,
) -> dict[str, Any]:
    """A Subscription. basil: the billing period is on `items.data[0]`; older: at the top level."""
    start = current_period_start if current_period_start is not None else _now()
    end = current_period_end if current_period_end is not None else _month_after(start)
    plan_id = f"steward-{interval}-{currency}-{amount}"
    item: dict[str, Any] = {
        "id": _id("si"),
        "object": "subscription_item",
        "created": start,
        "discounts": [],
        "metadata": {},
        "plan": {
            "id": plan_id,
            "object": "plan",
            "active": True,
            "amount": amount,
            "currency": currency,
            "interval": interval,
            "interval_count": 1,
            "product": "prod_steward_gift",
        },
        "price": {
            "id": plan_id,
            "object": "price",
            "currency": currency,
            "product": "prod_steward_gift",
            "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring",
            "unit_amount": amount,
        },
        "quantity": 1,
        "subscription": subscription_id,
        "tax_rates": [],
    }
    ended = status in {"canceled", "incomplete_expired"}
    obj: dict[str, Any] = {
        "id": subscription_id,
        "object": "subscription",
        "billing_cycle_anchor": start,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": (canceled_at or _now()) if ended else None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": start,
        "currency": currency,
        "customer": customer_id,
        "default_payment_method": None,
        "ended_at": (canceled_at or _now()) if ended else None,
        "items": {
            "object": "list",
            "data": [item],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": latest_invoice,
        "livemode": False,
        "metadata": {**({"recurring_id": recurring_id} if recurring_id else {}), **(metadata or {})},
        "start_date": start,
        "status": status,
    }
    if older:
        obj.update(current_period_start=start, current_period_end=end, plan=item["plan"], quantity=1)
    else:
        item.update(current_period_start=start, current_period_end=end)
    return obj


def subscription_changed(
    secret: str,
    *,
    subscription_id: str,
    deleted: bool = False,
    created: bool = False,
    status: str | None = None,
    customer_id: str = "cus_test_donor",
    recurring_id: str | None = None,
    metadata: dict[str, str] | None = None,
    amount: int = 2500,
    currency: str = "usd",
    interval: Literal["month", "year"] = "month",
    current_period_start: int | None = None,
    current_period_end: int | None = None,
    latest_invoice: str | None = None,
    older: bool = False,
    event_id: str | None = None,
) -> Signed:
    """`customer.subscription.updated`; `.created` with created=True, `.deleted` with
    deleted=True (status then defaults to canceled, else to active)."""
    event_type = "customer.subscription." + ("deleted" if deleted else "created" if created else "updated")
    obj = subscription_object(
        subscription_id=subscription_id,
        customer_id=customer_id,
        status=status or ("canceled" if deleted else "active"),
        recurring_id=recurring_id,
        metadata=metadata,
        amount=amount,
        currency=currency,
        interval=interval,
        current_period_start=current_period_start,
        current_period_end=current_period_end,
        latest_invoice=latest_invoice,
        older=older,
    )
    return _signed(secret, event_type, obj, older, event_id, None)


def refund_object(
    *,
    refund_id: str | None = None,
    charge_id: str,
    payment_intent_id: str | None = None,
    amount: int = 2500,
    currency: str = "usd",
    status: str = "succeeded",
    reason: str | None = "requested_by_customer",
    metadata: dict[str, str] | None = None,
    created: int | None = None,
    failure_reason: str | None = None,
    older: bool = False,
) -> dict[str, Any]:
    """A Refund. basil adds `destination_details`; older refunds lack it."""
    obj: dict[str, Any] = {
        "id": refund_id or _id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": _id("txn"),
        "charge": charge_id,
        "created": created if created is not None else _now(),
        "currency": currency,
        "metadata": dict(metadata or {}),
        "payment_intent": payment_intent_id,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }
    if status == "failed":
        obj.update(
            failure_balance_transaction=_id("txn"),
            failure_reason=failure_reason or "expired_or_canceled_card",
        )
    if not older:
        obj["destination_details"] = {
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        }
    return obj


def refund(
    secret: str,
    *,
    charge_id: str,
    refund_id: str | None = None,
    payment_intent_id: str | None = None,
    amount: int = 2500,
    currency: str = "usd",
    status: str = "succeeded",
    reason: str | None = "requested_by_customer",
    metadata: dict[str, str] | None = None,
    created: int | None = None,
    failure_reason: str | None = None,
    event_type: Literal["refund.created", "refund.updated", "charge.refund.updated"] = "refund.created",
    older: bool = False,
    event_id: str | None = None,
) -> Signed:
    """`refund.created` / `refund.updated` (or the older `charge.refund.updated`): one refund.
    Steward's own refunds carry metadata refund_id and donation_id."""
    obj = refund_object(
        refund_id=refund_id,
        charge_id=charge_id,
        payment_intent_id=payment_intent_id,
        amount=amount,
        currency=currency,
        status=status,
        reason=reason,
        metadata=metadata,
        created=created,
        failure_reason=failure_reason,
        older=older,
    )
    return _signed(secret, event_type, obj, older, event_id, None)


def charge_object(
    *,
    charge_id: str | None = None,
    payment_intent_id: str | None = None,
    amount: int = 2500,
    amount_refunded: int = 0,
    currency: str = "usd",
    metadata: dict[str, str] | None = None,
    balance_transaction: str | None = None,
    refunds: list[dict[str, Any]] | None = None,
    created: int | None = None,
    older: bool = False,
) -> dict[str, Any]:
    """A Charge. basil (since 2022-11-15) does not include `refunds`; older shapes list them."""
    charge_id = charge_id or _id("ch")
    obj: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "balance_transaction": balance_transaction,
        "captured": True,
        "created": created if created is not None else _now(),
        "currency": currency,
        "customer": None,
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "outcome": {
            "network_status": "approved_by_network",
            "type": "authorized",
            "seller_message": "Payment complete.",
        },
        "paid": True,
        "payment_intent": payment_intent_id,
        "payment_method": "pm_test_card",
        "refunded": amount_refunded >= amount > 0,
        "status": "succeeded",
    }
    if older:
        listed = refunds if refunds is not None else []
        obj["invoice"] = None
        obj["refunds"] = {
            "object": "list",
            "data": listed,
            "has_more": False,
            "total_count": len(listed),
            "url": f"/v1/charges/{charge_id}/refunds",
        }
    return obj


def charge_refunded(
    secret: str,
    *,
    charge_id: str,
    payment_intent_id: str | None = None,
    amount: int = 2500,
    amount_refunded: int = 2500,
    currency: str = "usd",
    metadata: dict[str, str] | None = None,
    refunds: list[dict[str, Any]] | None = None,
    older: bool = False,
    event_id: str | None = None,
) -> Signed:
    """`charge.refunded`: the charge's totals. With `older=True` it lists its refunds (pass
    `refund_object(...)` dicts; by default one refund of `amount_refunded`)."""
    if older and refunds is None:
        refunds = [
            refund_object(
                charge_id=charge_id,
                payment_intent_id=payment_intent_id,
                amount=amount_refunded,
                currency=currency,
                older=True,
            )
        ]
    obj = charge_object(
        charge_id=charge_id,
        payment_intent_id=payment_intent_id,
        amount=amount,
        amount_refunded=amount_refunded,
        currency=currency,
        metadata=metadata,
        balance_transaction=_id("txn"),
        refunds=refunds,
        older=older,
    )
    return _signed(secret, "charge.refunded", obj, older, event_id, None)


def charge_updated(
    secret: str,
    *,
    charge_id: str,
    payment_intent_id: str | None = None,
    amount: int = 2500,
    currency: str = "usd",
    metadata: dict[str, str] | None = None,
    balance_transaction: str | None = None,
    event_type: Literal["charge.updated", "charge.succeeded"] = "charge.updated",
    older: bool = False,
    event_id: str | None = None,
) -> Signed:
    """`charge.updated` (or `charge.succeeded`): the charge, with its balance transaction id
    once Stripe has one (since 2024 it may appear only after `charge.succeeded`)."""
    obj = charge_object(
        charge_id=charge_id,
        payment_intent_id=payment_intent_id,
        amount=amount,
        currency=currency,
        metadata=metadata,
        balance_transaction=balance_transaction,
        older=older,
    )
    return _signed(secret, event_type, obj, older, event_id, None)


DisputeAction = Literal["created", "updated", "closed", "funds_withdrawn", "funds_reinstated"]


def dispute_object(
    *,
    dispute_id: str | None = None,
    charge_id: str,
    payment_intent_id: str | None = None,
    amount: int = 2500,
    currency: str = "usd",
    reason: str = "fraudulent",
    status: str = "needs_response",
    evidence_due_by: int | None = None,
    created: int | None = None,
    metadata: dict[str, str] | None = None,
    older: bool = False,
) -> dict[str, Any]:
    """A Dispute (`du_`). Older shapes: a `dp_` id and no `payment_intent` (find it by the charge)."""
    at = created if created is not None else _now()
    obj: dict[str, Any] = {
        "id": dispute_id or _id("dp" if older else "du"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge_id,
        "created": at,
        "currency": currency,
        "evidence": {"customer_email_address": None, "uncategorized_text": None},
        "evidence_details": {
            "due_by": evidence_due_by if evidence_due_by is not None else at + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "reason": reason,
        "status": status,
    }
    if not older:
        obj.update(
            payment_intent=payment_intent_id,
            enhanced_eligibility_types=[],
            network_reason_code="10.4",
            payment_method_details={
                "card": {"brand": "visa", "case_type": "chargeback", "network_reason_code": "10.4"},
                "type": "card",
            },
        )
        obj["evidence_details"]["enhanced_eligibility"] = {}
    return obj


def dispute(
    secret: str,
    action: DisputeAction = "created",
    *,
    charge_id: str,
    dispute_id: str | None = None,
    payment_intent_id: str | None = None,
    amount: int = 2500,
    currency: str = "usd",
    reason: str = "fraudulent",
    status: str | None = None,
    evidence_due_by: int | None = None,
    created: int | None = None,
    metadata: dict[str, str] | None = None,
    older: bool = False,
    event_id: str | None = None,
) -> Signed:
    """`charge.dispute.<action>`. Status defaults to needs_response (lost for `closed`); pass
    Stripe's word: warning_needs_response, under_review, won, lost, warning_closed, ..."""
    obj = dispute_object(
        dispute_id=dispute_id,
        charge_id=charge_id,
        payment_intent_id=payment_intent_id,
        amount=amount,
        currency=currency,
        reason=reason,
        status=status or ("lost" if action == "closed" else "needs_response"),
        evidence_due_by=evidence_due_by,
        created=created,
        metadata=metadata,
        older=older,
    )
    return _signed(secret, f"charge.dispute.{action}", obj, older, event_id, None)
