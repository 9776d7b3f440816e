"""Monthly and annual gifts: the plan (a Stripe subscription) and how its status moves.

A plan is `incomplete` until its first installment is paid, then `active`; it is `past_due`
while Stripe retries a failed installment, and `canceled` for good once it ends. Its id is the
id of the gift that started it, which is also its first installment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalicelib.domain.donation import Donation
from chalicelib.domain.records import Record

PlanStatus = Literal["incomplete", "active", "past_due", "canceled"]
INTERVALS: dict[str, Literal["month", "year"]] = {"monthly": "month", "annual": "year"}


@dataclass(frozen=True, kw_only=True)
class RecurringPlan(Record):
    """A monthly or annual gift: its Stripe Subscription, its status and when it next charges."""

    id: str
    status: PlanStatus = "incomplete"
    amount: int
    currency: str
    frequency: Literal["monthly", "annual"]
    fund: str
    campaign: str | None = None
    anonymous: bool = False
    email: str
    first_name: str
    last_name: str
    covered_fee: int = 0
    customer_id: str
    subscription_id: str | None = None
    next_payment_at: str | None = None
    status_at: str = ""  # when the fact that set the status happened
    canceled_at: str | None = None
    starting_at: str | None = None  # when a confirm took the start: one Subscription at a time
    created_at: str
    updated_at: str
    version: int = 0


def plan_for(gift: Donation, customer_id: str) -> RecurringPlan:
    """The plan a recurring gift starts, before its subscription exists."""
    assert gift.frequency != "one_time"
    return RecurringPlan(
        id=gift.id,
        amount=gift.amount,
        currency=gift.currency,
        frequency=gift.frequency,
        fund=gift.fund,
        campaign=gift.campaign,
        anonymous=gift.anonymous,
        email=gift.email,
        first_name=gift.first_name,
        last_name=gift.last_name,
        covered_fee=gift.covered_fee,
        customer_id=customer_id,
        status_at=gift.created_at,
        created_at=gift.created_at,
        updated_at=gift.created_at,
    )


def installment(plan: RecurringPlan, gift_id: str, invoice_id: str, at: str) -> Donation:
    """A new gift record for one of the plan's invoices (the first one is the plan's own gift)."""
    return Donation(
        id=gift_id,
        amount=plan.amount,
        currency=plan.currency,
        frequency=plan.frequency,
        recurring_id=plan.id,
        invoice_id=invoice_id,
        fund=plan.fund,
        campaign=plan.campaign,
        anonymous=plan.anonymous,
        email=plan.email,
        first_name=plan.first_name,
        last_name=plan.last_name,
        covered_fee=plan.covered_fee,
        created_at=at,
        updated_at=at,
    )


def move_plan(
    plan: RecurringPlan,
    status: PlanStatus | None,
    at: str,
    now: str,
    *,
    subscription_id: str | None = None,
    next_payment_at: str | None = None,
) -> RecurringPlan:
    """Apply what Stripe states about the plan at time `at`. A canceled plan stays canceled;
    otherwise the latest fact wins (an older one, arriving late, changes no status)."""
    changes: dict[str, object] = {}
    if subscription_id and plan.subscription_id is None:
        changes["subscription_id"] = subscription_id
    # Stripe states times in whole seconds: within the same second, the fact that comes later wins.
    latest = at[:19] >= plan.status_at[:19]
    if status and plan.status != "canceled" and status != plan.status and latest:
        changes.update(status=status, status_at=at)
        if status == "canceled":
            changes["canceled_at"] = at
            changes["next_payment_at"] = None
    if next_payment_at and latest and plan.status != "canceled" and next_payment_at != plan.next_payment_at:
        changes["next_payment_at"] = next_payment_at
    if not changes:
        return plan
    return plan.model_copy(update={**changes, "updated_at": now})
