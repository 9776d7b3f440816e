"""Gifts: the stored record and its payment lifecycle (the request a donor sends is in
chalicelib/domain/gift_requests.py).

What happens to the money afterwards (refunds, disputes) is kept in its own records under
the gift (chalicelib/domain/aftermath.py); the gift carries their derived totals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import ClassVar, Literal

from chalicelib.domain.records import Record
from chalicelib.domain.terms import Frequency, Premium

Status = Literal["pending", "abandoned", "succeeded", "failed"]
DisputeState = Literal["open", "won", "lost"]
# What staff see: the payment's own status, or what happened to the money afterwards.
DisplayStatus = Literal[
    "pending",
    "abandoned",
    "failed",
    "succeeded",
    "partially_refunded",
    "refunded",
    "disputed",
    "dispute_lost",
]

# The payment lifecycle only moves forward: pending -> succeeded | failed | abandoned. An event
# may raise the rank, never lower it. Abandoned (left pending too long) ranks lowest after
# pending, so any late fact from Stripe still lands; a card declined then paid (a retried
# installment) ends succeeded.
STATUS_RANK: dict[str, int] = {"pending": 0, "abandoned": 1, "failed": 2, "succeeded": 3}


@dataclass(frozen=True)
class DonationRules:
    """What config allows a donor to give: currencies, limits, funds, premiums, and the
    cover-the-fee formula (percent of the total plus a fixed amount, in minor units)."""

    currencies: tuple[str, ...]
    min_amount: int
    max_amount: int
    fund_ids: tuple[str, ...]
    premiums: tuple[Premium, ...] = ()
    fee_percent: Decimal = Decimal("2.2")
    fee_fixed: int = 30

    def premium(self, premium_id: str | None) -> Premium | None:
        return next((p for p in self.premiums if p.id == premium_id), None)

    def covered_fee(self, amount: int) -> int:
        """What to add so that, after the processor's fee on the total, the gift arrives whole:
        total = (amount + fixed) / (1 - percent), rounded up to the cent."""
        rate = self.fee_percent / 100
        total = ((amount + self.fee_fixed) / (1 - rate)).to_integral_value(rounding=ROUND_CEILING)
        return int(total) - amount


@dataclass(frozen=True, kw_only=True)
class Donation(Record):
    """A stored gift, as finance staff see it. `amount` is what was charged (a covered fee
    included); refunded, dispute and display_status are derived from the refund and dispute
    records under the gift (chalicelib/domain/aftermath.py), kept here so lists need no joins."""

    SHOWN: ClassVar[tuple[str, ...]] = ("display_status", "net_after_refunds", "deductible_amount")

    id: str
    status: Status = "pending"
    amount: int
    currency: str
    fund: str
    campaign: str | None = None
    anonymous: bool = False
    email: str
    first_name: str
    last_name: str
    created_at: str
    updated_at: str
    frequency: Frequency = "one_time"
    recurring_id: str | None = None
    invoice_id: str | None = None
    setup_intent_id: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    fee: int | None = None
    net: int | None = None
    settlement_currency: str | None = None
    failure_reason: str | None = None
    succeeded_at: str | None = None
    receipt_number: str | None = None
    covered_fee: int = 0
    tribute_kind: Literal["honor", "memory"] | None = None
    tribute_name: str | None = None
    tribute_notify_name: str | None = None
    tribute_notify_email: str | None = None
    premium_id: str | None = None
    premium_name: str | None = None
    premium_value: int = 0
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    refunded: int = 0
    dispute: DisputeState | None = None
    disputed: int = 0  # the amount of its disputes that are open or lost
    version: int = 0

    @property
    def display_status(self) -> DisplayStatus:
        """The payment's status, or once paid what happened to the money afterwards: an open
        dispute first, then a lost one, then refunds."""
        if self.status != "succeeded":
            return self.status
        if self.dispute == "open":
            return "disputed"
        if self.dispute == "lost":
            return "dispute_lost"
        if self.refunded >= self.amount:
            return "refunded"
        return "partially_refunded" if self.refunded else "succeeded"

    @property
    def net_after_refunds(self) -> int | None:
        """Net minus refunds, where both are in the same currency (else None: converted
        refund amounts are in the refund records' balance transactions)."""
        if self.net is None or self.settlement_currency not in (None, self.currency):
            return None
        return self.net - self.refunded

    @property
    def deductible_amount(self) -> int:
        return max(0, self.amount - self.premium_value)


@dataclass(frozen=True)
class PaymentUpdate:
    """What one payment fact says about a gift's charge; every field is optional."""

    status: Status | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    failure_reason: str | None = None
    invoice_id: str | None = None
    paid_at: str | None = None


@dataclass(frozen=True)
class AbandonRules:
    """When a gift left pending is given up: after pending_hours, or after no_setup_minutes
    when it never got its SetupIntent (its create request failed half-way)."""

    pending_hours: int = 24
    no_setup_minutes: int = 60


def should_abandon(donation: Donation, pending_before: str, no_setup_before: str) -> bool:
    """Whether the sweep marks this gift abandoned, given the two cut-off times."""
    if donation.status != "pending":
        return False
    if donation.setup_intent_id is None and donation.created_at < no_setup_before:
        return True
    return donation.created_at < pending_before


def receipt_number(donation_id: str, paid_at: str) -> str:
    """The receipt number: the year it was paid and the gift's id (unique, never reused)."""
    return f"{paid_at[:4]}-{donation_id}"


def apply_update(donation: Donation, update: PaymentUpdate, now: str) -> Donation:
    """Merge a payment fact into a gift. Order-independent and idempotent: the status only
    moves forward, and every field ends fitting the resulting state (a reason only on a
    failed gift; a payment time and a receipt number on every paid gift)."""
    changes: dict[str, object] = {}
    status = donation.status
    if update.status and STATUS_RANK[update.status] > STATUS_RANK[status]:
        status = changes["status"] = update.status
    for name in ("payment_intent_id", "charge_id", "invoice_id"):
        value = getattr(update, name)
        if name == "charge_id" and update.status == "failed":
            continue  # a declined charge; the gift's charge is the one that takes the money
        if value is not None and getattr(donation, name) is None:
            changes[name] = value
    if status != "failed":
        if donation.failure_reason is not None:
            changes["failure_reason"] = None
    elif donation.failure_reason is None and update.failure_reason is not None:
        changes["failure_reason"] = update.failure_reason
    if status == "succeeded" and donation.succeeded_at is None:
        paid_at = update.paid_at or now
        changes["succeeded_at"] = paid_at
        changes["receipt_number"] = receipt_number(donation.id, paid_at)
    if not changes:
        return donation
    changes["updated_at"] = now
    return donation.model_copy(update=changes)


def apply_settlement(donation: Donation, fee: int, net: int, currency: str, now: str) -> Donation:
    """Fee and net as the balance transaction states them now; Stripe may change them."""
    if (donation.fee, donation.net, donation.settlement_currency) == (fee, net, currency):
        return donation
    return donation.model_copy(
        update={"fee": fee, "net": net, "settlement_currency": currency, "updated_at": now}
    )
