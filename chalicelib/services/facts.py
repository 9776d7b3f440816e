"""What a verified Stripe event states, in Steward's own terms.

The Payments port answers a `StripeEvent` carrying one of these facts; the webhook service
dispatches on the fact's type and never reads Stripe JSON. Times are ISO-8601 UTC strings
("2026-11-27T15:04:05.000Z"), money is integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalicelib.services.ports import PaymentIntentInfo

DisputeStatus = Literal["open", "won", "lost"]
RefundState = Literal["pending", "succeeded", "failed", "canceled"]
PlanState = Literal["active", "past_due", "canceled"]


@dataclass(frozen=True)
class PaymentSucceeded:
    """`payment_intent.succeeded` for a PaymentIntent that names its gift in metadata."""

    intent: PaymentIntentInfo


@dataclass(frozen=True)
class PaymentFailed:
    """`payment_intent.payment_failed` for a PaymentIntent that names its gift in metadata."""

    intent: PaymentIntentInfo


@dataclass(frozen=True)
class ChargeSettled:
    """`charge.succeeded` / `charge.updated`: the charge's balance transaction may have
    appeared or changed, so its fee and net are read again (Payments.settlement)."""

    charge_id: str
    payment_id: str | None  # the PaymentIntent id
    donation_id: str | None  # from metadata, when it carries one


@dataclass(frozen=True)
class RefundChanged:
    """`refund.created`, `refund.updated`, `charge.refund.updated`: one refund as it stands."""

    refund_id: str  # Stripe's re_ id
    steward_refund_id: str | None  # metadata.refund_id when Steward made it
    donation_id: str | None  # metadata.donation_id of the refund, when present
    charge_id: str | None
    payment_id: str | None  # the PaymentIntent id, else the charge id
    amount: int
    currency: str
    status: RefundState
    reason: str | None  # Stripe's reason: duplicate | fraudulent | requested_by_customer | ...
    created_at: str
    failure_reason: str | None = None  # why a failed refund failed, e.g. expired_or_canceled_card


@dataclass(frozen=True)
class ChargeRefunded:
    """`charge.refunded`: the charge's totals, and each refund when the event lists them
    (older API versions and localstripe do; since 2022-11-15 the list is not expanded)."""

    charge_id: str | None
    donation_id: str | None  # from the charge's metadata, when it carries one
    payment_id: str | None  # the PaymentIntent id, else the charge id
    amount: int
    amount_refunded: int
    refunds: tuple[RefundChanged, ...]


@dataclass(frozen=True)
class DisputeChanged:
    """`charge.dispute.created`, `.updated`, `.closed`, `.funds_withdrawn`, `.funds_reinstated`."""

    dispute_id: str  # dp_ / du_
    charge_id: str | None
    payment_id: str | None  # the PaymentIntent id, else the disputed charge's id
    amount: int
    currency: str
    reason: str  # Stripe's reason, e.g. "fraudulent", "product_not_received"
    status: DisputeStatus  # open while Stripe says needs_response/under_review/warning_*
    evidence_due_by: str | None
    created_at: str


@dataclass(frozen=True)
class InvoicePaid:
    """`invoice.paid`, or `invoice.payment_succeeded` where only that arrives: one installment.
    Reads the subscription from `parent.subscription_details.subscription` (basil) or the
    top-level `subscription` (older shapes, localstripe)."""

    invoice_id: str
    subscription_id: str
    recurring_id: str | None  # the subscription's metadata.recurring_id, when the event has it
    customer_id: str | None
    payment_id: str | None  # the PaymentIntent id, when the invoice names it (older shapes)
    charge_id: str | None  # likewise
    amount: int  # amount_paid
    currency: str
    paid_at: str
    period_end: str | None  # the end of the period this installment pays for
    billing_reason: str | None = None  # "subscription_create" for a plan's first invoice


@dataclass(frozen=True)
class InvoiceFailed:
    """`invoice.payment_failed`: an installment that did not go through; Stripe may retry."""

    invoice_id: str
    subscription_id: str
    recurring_id: str | None
    amount: int  # amount_due
    currency: str
    attempt_count: int
    next_attempt_at: str | None  # None when Stripe will not retry
    failure_reason: str | None
    failed_at: str
    billing_reason: str | None = None


@dataclass(frozen=True)
class SubscriptionChanged:
    """`customer.subscription.created`, `.updated`, `.deleted`: the plan's state at Stripe."""

    subscription_id: str
    recurring_id: str | None  # metadata.recurring_id
    status: PlanState  # active | past_due | canceled (incomplete*/unpaid read as past_due...)
    stripe_status: str  # Stripe's own status word, kept for the audit
    current_period_end: str | None  # items.data[0].current_period_end (basil) or top level
    ended: bool  # true for `.deleted` (and status canceled)


@dataclass(frozen=True)
class NotOurs:
    """A payment event for a PaymentIntent Steward did not create (no gift in its metadata)."""


@dataclass(frozen=True)
class Unknown:
    """An event type Steward does not act on, or one that states nothing it records."""


Fact = (
    PaymentSucceeded
    | PaymentFailed
    | ChargeSettled
    | RefundChanged
    | ChargeRefunded
    | DisputeChanged
    | InvoicePaid
    | InvoiceFailed
    | SubscriptionChanged
    | NotOurs
    | Unknown
)


@dataclass(frozen=True)
class StripeEvent:
    """A verified webhook event: its id and type, the raw body to keep, and what it states."""

    id: str
    type: str
    raw: str
    fact: Fact
