"""Stripe webhooks: verify, store once by event id, apply each fact exactly once.

The Payments port verifies the event and reads it into a fact (chalicelib/services/facts.py);
this module dispatches on the fact's type and never reads Stripe JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.donation import Donation, PaymentUpdate, refund_status
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.ids import is_id
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.donations import apply_fact, update_from_intent
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
    StripeEvent,
    SubscriptionChanged,
    Unknown,
)
from chalicelib.services.ports import Payments, Repository

log = logging.getLogger("steward")


@dataclass(frozen=True)
class _Context:
    event: StripeEvent
    repo: Repository
    payments: Payments
    now: Clock


def handle_stripe_event(
    payload: bytes,
    signature: str | None,
    *,
    repo: Repository,
    payments: Payments,
    now: Clock = utc_now,
) -> dict[str, Any]:
    event = payments.verify_event(payload, signature)
    stored = repo.put_event(event.id, event.type, event.raw, now())
    if stored.processed:
        return {"received": True, "duplicate": True}
    handler = HANDLERS[type(event.fact)]
    return {"received": True, "applied": handler(event.fact, _Context(event, repo, payments, now))}


def _payment(fact: PaymentSucceeded | PaymentFailed, ctx: _Context) -> bool:
    intent = fact.intent
    donation = _gift(ctx, intent.donation_id, intent.id)
    if donation is None:
        return _not_ours(fact, ctx)
    update = update_from_intent(intent, ctx.payments, fee_known=donation.fee is not None)
    return _apply(ctx, donation, update)


def _refunded(fact: ChargeRefunded, ctx: _Context) -> bool:
    update = PaymentUpdate(
        status=refund_status(fact.amount, fact.amount_refunded),
        charge_id=fact.charge_id,
        amount_refunded=fact.amount_refunded,
    )
    donation = _gift(ctx, fact.donation_id, fact.payment_id)
    return _not_ours(fact, ctx) if donation is None else _apply(ctx, donation, update)


def _dispute(fact: DisputeChanged, ctx: _Context) -> bool:
    update = PaymentUpdate(status="disputed", dispute_status=fact.status)
    donation = _gift(ctx, None, fact.payment_id)
    return _not_ours(fact, ctx) if donation is None else _apply(ctx, donation, update)


def _not_ours(fact: object, ctx: _Context) -> bool:
    """A fact about no gift of ours: acknowledged (Stripe stops retrying) and logged."""
    log.warning("stripe event %s (%s) is for no gift of ours; acknowledged", ctx.event.id, ctx.event.type)
    return _ignore(fact, ctx)


def _ignore(fact: object, ctx: _Context) -> bool:
    """An event Steward does not act on: acknowledged, nothing applied."""
    ctx.repo.mark_event_processed(ctx.event.id, ctx.now())
    return False


def _apply(ctx: _Context, donation: Donation, update: PaymentUpdate) -> bool:
    event = ctx.event
    _, changed = apply_fact(ctx.repo, donation, update, source=event.type, event_id=event.id, now=ctx.now)
    return changed


def _gift(ctx: _Context, donation_id: str | None, stripe_id: str | None) -> Donation | None:
    """The gift a fact is about: named in metadata, else found by its PaymentIntent or Charge
    id (here, or at Stripe for a PaymentIntent whose id was never recorded)."""
    if isinstance(donation_id, str) and is_id(donation_id):
        found: str | None = donation_id
    elif not isinstance(stripe_id, str):
        return None
    else:
        found = ctx.repo.donation_id_for(stripe_id)
        if found is None and stripe_id.startswith("pi_"):
            try:
                found = ctx.payments.retrieve_payment_intent(stripe_id).donation_id
            except NotFoundError:  # Stripe knows no such PaymentIntent on this account
                return None
    return ctx.repo.get_donation(found) if found and is_id(found) else None


Handler = Callable[[Any, _Context], bool]
# One handler per fact type the Payments port can answer (tests/unit check it covers them all).
HANDLERS: dict[type, Handler] = {
    PaymentSucceeded: _payment,
    PaymentFailed: _payment,
    ChargeRefunded: _refunded,
    DisputeChanged: _dispute,
    ChargeSettled: _ignore,
    RefundChanged: _ignore,
    InvoicePaid: _ignore,
    InvoiceFailed: _ignore,
    SubscriptionChanged: _ignore,
    NotOurs: _not_ours,
    Unknown: _ignore,
}
