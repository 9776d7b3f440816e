"""Stripe webhooks: verify, apply each fact exactly once, keep every event by its id.

The Payments port verifies the event and reads it into a fact (chalicelib/services/facts.py);
this module dispatches on the fact's type and never reads Stripe JSON. The event is stored
processed in the transaction that applies its fact (or alone when it changes nothing): a
delivery processed before fails that write and changes nothing. An event whose processing
fails is stored unprocessed with the reason, and the delivery answers non-2xx.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.aftermath import Dispute, Refund, merge_dispute, merge_refund
from chalicelib.domain.donation import apply_settlement
from chalicelib.domain.errors import DuplicateEventError, InvalidSignatureError, NotFoundError
from chalicelib.domain.ids import is_id
from chalicelib.metrics import business_event
from chalicelib.services import recurring
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.donations import Money, record_payment, update_from_intent
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
from chalicelib.services.gifts import Decision, change_gift
from chalicelib.services.ports import GiftRecord, Payments, Repository
from chalicelib.services.receipts import GiftMail
from chalicelib.services.refunds import refund_change

log = logging.getLogger("steward")


@dataclass(frozen=True)
class Context:
    event: StripeEvent
    money: Money

    @property
    def repo(self) -> Repository:
        return self.money.repo

    def done(self, note: str | None = None) -> bool:
        """Acknowledge the event with nothing to apply (`note`: why, stored with it)."""
        self.repo.mark_event_processed(self.event, self.money.now(), note)
        return False


def handle_stripe_event(
    payload: bytes,
    signature: str | None,
    *,
    repo: Repository,
    payments: Payments,
    mail: GiftMail | None = None,
    now: Clock = utc_now,
) -> dict[str, Any]:
    try:
        event = payments.verify_event(payload, signature)
    except InvalidSignatureError as exc:
        business_event("webhook_rejected", "stripe webhook refused", logging.WARNING, reason=exc.reason)
        raise
    return apply_event(event, Money(repo, payments, mail, now))


def apply_event(event: StripeEvent, money: Money) -> dict[str, Any]:
    """Apply a verified event's fact once and store the event with it: the webhook, and a
    reconciliation replaying Stripe's list of events, go through here alike."""
    handler = HANDLERS[type(event.fact)]
    try:
        applied = handler(event.fact, Context(event, money))
    except DuplicateEventError:
        return {"received": True, "duplicate": True}
    except Exception as exc:
        if not _keep_failed(event, exc, money):
            return {"received": True, "duplicate": True}  # another delivery processed it
        raise
    return {"received": True, "applied": applied}


def _keep_failed(event: StripeEvent, exc: Exception, money: Money) -> bool:
    """Store an event that failed, with the reason; False when it was processed meanwhile. If
    the table cannot take it either, the delivery still fails and Stripe sends it again."""
    reason = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    try:
        return money.repo.keep_failed_event(event, reason, money.now())
    except Exception:
        log.exception("stripe event %s (%s) failed and could not be stored", event.id, event.type)
        return True


def _payment(fact: PaymentSucceeded | PaymentFailed, ctx: Context) -> bool:
    intent = fact.intent
    record = gift_for(ctx, intent.donation_id, intent.id)
    if record is None:
        return not_ours(fact, ctx)
    before = record.donation.version
    stored = record_payment(
        ctx.money,
        record.donation.id,
        update_from_intent(intent),
        source=ctx.event.type,
        event=ctx.event,
        record=record,  # as read just now: not read again
    )
    return stored.version != before


def _settled(fact: ChargeSettled, ctx: Context) -> bool:
    """Fee and net as the charge's balance transaction states them now."""
    record = gift_for(ctx, fact.donation_id, fact.payment_id or fact.charge_id)
    if record is None or record.donation.charge_id not in (None, fact.charge_id):
        return not_ours(fact, ctx)
    settled = ctx.money.payments.settlement(fact.charge_id)
    if settled is None:
        return ctx.done()

    def decide(current: GiftRecord) -> Decision | None:
        gift = current.donation
        if gift.status != "succeeded":
            return None  # the payment fact brings the fee with it
        changed = apply_settlement(gift, settled.fee, settled.net, settled.currency, ctx.money.now())
        return None if changed is gift else Decision(changed)

    return _change(ctx, record, decide)


def _refund(fact: RefundChanged, ctx: Context) -> bool:
    record = _refunded_gift(ctx, fact)
    if record is not None:  # a refund Steward made names its gift and its record: no link read
        return _change(ctx, record, refund_decision(ctx.money, str(fact.steward_refund_id), fact))
    target = ctx.repo.stripe_target(fact.refund_id)
    record = gift_for(ctx, target.donation_id or fact.donation_id, fact.payment_id or fact.charge_id)
    if record is None:
        return not_ours(fact, ctx)
    refund_id = target.refund_id or fact.steward_refund_id or fact.refund_id
    return _change(ctx, record, refund_decision(ctx.money, refund_id, fact))


def _refunded_gift(ctx: Context, fact: RefundChanged) -> GiftRecord | None:
    """The gift a refund Steward made names in its metadata (with its own refund id), when the
    refund is of that gift's payment; None sends the refund through its `STRIPE#` link."""
    if not (is_id(fact.donation_id or "") and is_id(fact.steward_refund_id or "")):
        return None
    record = ctx.repo.get_gift(str(fact.donation_id))
    if record is None:
        return None
    gift = record.donation
    paid = {gift.payment_intent_id, gift.charge_id} - {None}
    return record if fact.payment_id in paid or fact.charge_id in paid else None


def refund_decision(
    money: Money, refund_id: str, fact: RefundChanged
) -> Callable[[GiftRecord], Decision | None]:
    """A refund as Stripe states it, merged into its record; a refund made at Stripe (not here)
    gets a record of its own. When Stripe first takes it, the donor gets the corrected notice."""

    def decide(current: GiftRecord) -> Decision | None:
        stored = next((r for r in current.refunds if r.id == refund_id), None)
        timestamp = money.now()
        update = Refund(
            id=refund_id,
            donation_id=current.donation.id,
            amount=fact.amount,
            currency=fact.currency,
            reason=fact.reason or "other",
            actor="stripe",
            status=fact.status,
            stripe_refund_id=fact.refund_id,
            failure_reason=fact.failure_reason,
            created_at=fact.created_at,
            updated_at=timestamp,
        )
        merged = merge_refund(stored, update)
        if merged is None:
            return None
        return refund_change(current, merged, stored, money)

    return decide


def _charge_refunded(fact: ChargeRefunded, ctx: Context) -> bool:
    """Each refund the event lists is recorded; without a list, the refund events bring them."""
    record = gift_for(ctx, fact.donation_id, fact.payment_id)
    if record is None:
        return not_ours(fact, ctx)
    changed = False
    for refund in fact.refunds:
        target = ctx.repo.stripe_target(refund.refund_id)
        refund_id = target.refund_id or refund.steward_refund_id or refund.refund_id
        _, moved = change_gift(
            ctx.repo,
            record.donation.id,
            refund_decision(ctx.money, refund_id, refund),
            source=ctx.event.type,
            now=ctx.money.now,
        )
        changed = changed or moved
    ctx.done()
    return changed


def _dispute(fact: DisputeChanged, ctx: Context) -> bool:
    record = gift_for(ctx, None, fact.payment_id or fact.charge_id)
    if record is None:
        return not_ours(fact, ctx)

    def decide(current: GiftRecord) -> Decision | None:
        stored = next((d for d in current.disputes if d.id == fact.dispute_id), None)
        update = Dispute(
            id=fact.dispute_id,
            donation_id=current.donation.id,
            amount=fact.amount,
            currency=fact.currency,
            reason=fact.reason,
            status=fact.status,
            evidence_due_by=fact.evidence_due_by,
            created_at=fact.created_at,
            updated_at=ctx.money.now(),
        )
        merged = merge_dispute(stored, update)
        if merged is None:
            return None
        mail = ctx.money.mail
        messages = (
            (mail.dispute(current.donation, merged, ctx.money.now()),) if mail and stored is None else ()
        )
        details = {"dispute_id": merged.id, "dispute_status": merged.status}
        return Decision(current.donation, disputes=(merged,), messages=messages, details=details)

    return _change(ctx, record, decide)


def not_ours(fact: object, ctx: Context) -> bool:
    """A fact about no gift of ours: acknowledged (Stripe stops retrying) and logged."""
    log.warning("stripe event %s (%s) is for no gift of ours; acknowledged", ctx.event.id, ctx.event.type)
    return ctx.done("not ours")


def _ignore(fact: object, ctx: Context) -> bool:
    """An event Steward does not act on: acknowledged, nothing applied."""
    return ctx.done("ignored")


def _change(ctx: Context, record: GiftRecord, decide: Callable[[GiftRecord], Decision | None]) -> bool:
    event = ctx.event
    _, changed = change_gift(
        ctx.repo,
        record.donation.id,
        decide,
        source=event.type,
        event=event,
        record=record,
        now=ctx.money.now,
    )
    return changed


def gift_for(ctx: Context, donation_id: str | None, stripe_id: str | None) -> GiftRecord | None:
    """The gift a fact is about: named in metadata, else found by its PaymentIntent or Charge
    id (here, or at Stripe for a PaymentIntent whose id was never recorded)."""
    if isinstance(donation_id, str) and is_id(donation_id):
        found: str | None = donation_id
    elif not isinstance(stripe_id, str):
        return None
    else:
        found = ctx.repo.stripe_target(stripe_id).donation_id
        if found is None and stripe_id.startswith("pi_"):
            try:
                found = ctx.money.payments.retrieve_payment_intent(stripe_id).donation_id
            except NotFoundError:  # Stripe knows no such PaymentIntent on this account
                return None
    return ctx.repo.get_gift(found) if found and is_id(found) else None


Handler = Callable[[Any, Context], bool]


def _plan(handle: Callable[[Any, Money, StripeEvent], bool | None]) -> Handler:
    """A fact about a plan: applied by the recurring service, or not ours (None)."""

    def handler(fact: Any, ctx: Context) -> bool:
        applied = handle(fact, ctx.money, ctx.event)
        return not_ours(fact, ctx) if applied is None else applied

    return handler


# One handler per fact type the Payments port can answer (tests/unit check it covers them all).
HANDLERS: dict[type, Handler] = {
    PaymentSucceeded: _payment,
    PaymentFailed: _payment,
    ChargeSettled: _settled,
    RefundChanged: _refund,
    ChargeRefunded: _charge_refunded,
    DisputeChanged: _dispute,
    InvoicePaid: _plan(recurring.invoice_paid),
    InvoiceFailed: _plan(recurring.invoice_failed),
    SubscriptionChanged: _plan(recurring.subscription_changed),
    NotOurs: not_ours,
    Unknown: _ignore,
}
