"""What a verified Stripe event states, in Steward's own terms.

The Payments port answers a `StripeEvent` carrying one of these facts; the webhook service
dispatches on the fact's type and never reads Stripe JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.donation import DisputeStatus
from chalicelib.services.ports import PaymentIntentInfo


@dataclass(frozen=True)
class PaymentSucceeded:
    """`payment_intent.succeeded` for a PaymentIntent that names its gift in metadata."""

    intent: PaymentIntentInfo


@dataclass(frozen=True)
class PaymentFailed:
    """`payment_intent.payment_failed` for a PaymentIntent that names its gift in metadata."""

    intent: PaymentIntentInfo


@dataclass(frozen=True)
class ChargeRefunded:
    """`charge.refunded`: the charge's amount and how much of it is refunded so far."""

    charge_id: str | None
    donation_id: str | None  # from the charge's metadata, when it carries one
    payment_id: str | None  # the PaymentIntent id, else the charge id: where to look the gift up
    amount: int
    amount_refunded: int


@dataclass(frozen=True)
class DisputeOpened:
    """`charge.dispute.created`."""

    payment_id: str | None  # the PaymentIntent id, else the disputed charge's id


@dataclass(frozen=True)
class DisputeClosed:
    """`charge.dispute.closed` with an outcome Steward records."""

    payment_id: str | None
    outcome: DisputeStatus


@dataclass(frozen=True)
class NotOurs:
    """A payment event for a PaymentIntent Steward did not create (no gift in its metadata)."""


@dataclass(frozen=True)
class Unknown:
    """An event type Steward does not act on, or one that states nothing it records."""


Fact = PaymentSucceeded | PaymentFailed | ChargeRefunded | DisputeOpened | DisputeClosed | NotOurs | Unknown


@dataclass(frozen=True)
class StripeEvent:
    """A verified webhook event: its id and type, the raw body to keep, and what it states."""

    id: str
    type: str
    raw: str
    fact: Fact
