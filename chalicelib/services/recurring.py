"""Monthly and annual gifts: start the plan, record each installment, follow the plan's
status at Stripe, and let the donor cancel it or change its card.

The plan's id is its first gift's id. The first invoice is that gift; every later invoice
becomes a gift record of its own, linked to the plan once (by the invoice id)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from chalicelib.domain.donation import Donation, PaymentUpdate
from chalicelib.domain.errors import (
    ConcurrentUpdateError,
    ConflictError,
    NotFoundError,
    StewardError,
    UpstreamError,
    ValidationFailedError,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.recurring import INTERVALS, PlanStatus, RecurringPlan, installment, move_plan
from chalicelib.services.clock import seconds_before
from chalicelib.services.donations import (
    ConfirmResult,
    Money,
    give_back,
    payment_decision,
    saved_card,
    settlement_for,
)
from chalicelib.services.facts import InvoiceFailed, InvoicePaid, StripeEvent, SubscriptionChanged
from chalicelib.services.forms import DeclineGuard
from chalicelib.services.gifts import SAVE_ATTEMPTS, Decision, change_gift, commit
from chalicelib.services.ports import (
    AuditEntry,
    GiftRecord,
    OutboxMessage,
    Page,
    PlanRecord,
    SubscriptionInfo,
)

log = logging.getLogger("steward")
FIRST_INVOICE = "subscription_create"
# How long one confirm holds a plan's start (creating its Subscription) before another may.
STARTING_SECONDS = 30


@dataclass(frozen=True)
class Installment:
    """What one invoice states: the payment fact, and the plan's status after it."""

    invoice_id: str
    update: PaymentUpdate
    plan_status: PlanStatus | None
    at: str
    next_payment_at: str | None = None
    subscription_id: str | None = None


def start_plan(gift: Donation, money: Money, guard: DeclineGuard | None) -> ConfirmResult:
    """Confirm a recurring gift: the Subscription is created with the card the browser saved
    (Stripe answers a retry with the same one), and its first invoice is this gift."""
    plan = money.repo.get_plan(gift.id)
    if plan is None:
        raise ConflictError("this gift has no card setup yet; create it again")
    if gift.status != "pending":
        return ConfirmResult.of(gift)
    if guard:
        guard.count_attempt()
    subscription: SubscriptionInfo | None = None
    if plan.subscription_id:
        subscription = money.payments.retrieve_subscription(plan.subscription_id)
    elif not _take_start(plan, money):  # another confirm holds the start, or one died holding it
        subscription = money.payments.find_subscription(plan.customer_id, plan.id)
        if subscription is None:
            raise ConflictError("this gift is being confirmed already; retry in a moment")
    if subscription is None:
        slot = None
        try:
            card = saved_card(gift, money.payments)
            slot = guard.reserve() if guard else None  # before this card reaches Stripe
            subscription = money.payments.create_subscription(
                plan.id,
                plan.customer_id,
                card,
                plan.amount,
                plan.currency,
                INTERVALS[plan.frequency],
                {"recurring_id": plan.id, "donation_id": gift.id, "fund": gift.fund},
            )
        except Exception:
            if slot:
                give_back(slot)
            _give_start_back(plan.id, money)  # a retry may start it at once (Stripe finds its own)
            raise
        if slot and not subscription.failure_reason:
            slot.release()
    stored = _first_installment(gift, subscription, money)
    if subscription.client_secret and stored.status == "pending":
        return ConfirmResult(gift.id, "requires_action", subscription.client_secret)
    return ConfirmResult.of(stored)


def _take_start(plan: RecurringPlan, money: Money) -> bool:
    """Reserve the plan's start before Stripe hears of it (a conditional write on the plan), so
    two confirms at once never create two Subscriptions. False when another confirm holds it;
    a start left by a process that died is taken again once it is STARTING_SECONDS old."""
    timestamp = money.now()
    if plan.starting_at and plan.starting_at > seconds_before(timestamp, STARTING_SECONDS):
        return False
    work = money.repo.unit_of_work()
    changes = {"starting_at": timestamp, "updated_at": timestamp, "version": plan.version + 1}
    work.save_plan(plan.model_copy(update=changes), plan.version)
    try:
        work.commit()
    except ConcurrentUpdateError:
        return False
    return True


def _give_start_back(plan_id: str, money: Money) -> None:
    try:
        plan = money.repo.get_plan(plan_id)
        if plan is None or plan.subscription_id or plan.starting_at is None:
            return
        work = money.repo.unit_of_work()
        changes = {"starting_at": None, "version": plan.version + 1}
        work.save_plan(plan.model_copy(update=changes), plan.version)
        work.commit()
    except StewardError as exc:  # it is taken again once STARTING_SECONDS old
        log.warning("plan %s kept its start for a while: %s", plan_id, exc.message)


def _first_installment(gift: Donation, subscription: SubscriptionInfo, money: Money) -> Donation:
    if subscription.invoice_paid:
        update = PaymentUpdate(
            status="succeeded",
            payment_intent_id=subscription.payment_id,
            charge_id=subscription.charge_id,
            invoice_id=subscription.latest_invoice_id,
        )
        status: PlanStatus | None = "active"
    elif subscription.failure_reason:
        _cancel_quietly(subscription.id, money)  # an incomplete subscription must never charge later
        update = PaymentUpdate(
            status="failed",
            payment_intent_id=subscription.payment_id,
            failure_reason=subscription.failure_reason,
            invoice_id=subscription.latest_invoice_id,
        )
        status = "canceled"
    else:
        update = PaymentUpdate(
            payment_intent_id=subscription.payment_id, invoice_id=subscription.latest_invoice_id
        )
        status = None
    fact = Installment(
        invoice_id=subscription.latest_invoice_id or "",
        update=update,
        plan_status=status,
        at=money.now(),
        next_payment_at=subscription.current_period_end,
        subscription_id=subscription.id,
    )
    record, _ = change_gift(
        money.repo, gift.id, _installment_decision(fact, money), source="confirm", now=money.now
    )
    return record.donation


def _cancel_quietly(subscription_id: str, money: Money) -> None:
    try:
        money.payments.cancel_subscription(subscription_id)
    except (UpstreamError, NotFoundError) as exc:
        log.warning(
            "subscription %s not canceled after its first payment failed: %s", subscription_id, exc.message
        )


def _installment_decision(fact: Installment, money: Money) -> Callable[[GiftRecord], Decision | None]:
    """The installment's payment fact merged into its gift, with the plan moved in the same
    transaction (the plan is read again on every attempt)."""

    def decide(current: GiftRecord) -> Decision | None:
        gift = current.donation
        plan = money.repo.get_plan(gift.recurring_id or "")
        settled = (
            settlement_for(money, gift, fact.update.charge_id) if fact.update.status == "succeeded" else None
        )
        decision = payment_decision(gift, fact.update, money, settled)
        moved = None
        if plan is not None:
            moved = move_plan(
                plan,
                fact.plan_status,
                fact.at,
                money.now(),
                subscription_id=fact.subscription_id,
                next_payment_at=fact.next_payment_at,
            )
            moved = None if moved is plan else moved.model_copy(update={"version": plan.version + 1})
        if decision is None and moved is None:
            return None
        link = fact.invoice_id if fact.invoice_id and gift.invoice_id is None else None
        return Decision(
            decision.donation if decision else gift,
            messages=decision.messages if decision else (),
            plan=moved,
            plan_version=plan.version if moved and plan else None,
            installment=link,
            details={"invoice_id": fact.invoice_id},
        )

    return decide


def invoice_paid(fact: InvoicePaid, money: Money, event: StripeEvent) -> bool | None:
    """One paid installment. None when the invoice is for no plan of ours."""
    plan = _plan_for(money, fact.recurring_id, fact.subscription_id)
    if plan is None:
        return None
    payment_id, charge_id = fact.payment_id, fact.charge_id
    if charge_id is None:  # the pinned API version names neither on the invoice
        payment_id, charge_id = money.payments.invoice_payment(fact.invoice_id)
    update = PaymentUpdate(
        status="succeeded",
        payment_intent_id=payment_id,
        charge_id=charge_id,
        invoice_id=fact.invoice_id,
        paid_at=fact.paid_at,
    )
    installment_fact = Installment(
        fact.invoice_id, update, "active", fact.paid_at, fact.period_end, fact.subscription_id
    )
    return _record(plan, fact.billing_reason, installment_fact, money, event)


def invoice_failed(fact: InvoiceFailed, money: Money, event: StripeEvent) -> bool | None:
    """A failed installment is recorded; the plan is past due while Stripe retries (a first
    invoice that fails leaves the plan to the confirm that started it)."""
    plan = _plan_for(money, fact.recurring_id, fact.subscription_id)
    if plan is None:
        return None
    update = PaymentUpdate(
        status="failed", invoice_id=fact.invoice_id, failure_reason=fact.failure_reason or "payment failed"
    )
    installment_fact = Installment(
        fact.invoice_id, update, "past_due", fact.failed_at, None, fact.subscription_id
    )
    return _record(plan, fact.billing_reason, installment_fact, money, event)


def _first_invoice(plan: RecurringPlan, billing_reason: str | None) -> bool:
    """Whether an invoice is the plan's first: Stripe says so, or (where it does not say)
    the plan has not started yet, and Stripe bills nothing more before the first is paid."""
    return billing_reason == FIRST_INVOICE or (billing_reason is None and plan.status == "incomplete")


def _record(
    plan: RecurringPlan,
    billing_reason: str | None,
    fact: Installment,
    money: Money,
    event: StripeEvent,
) -> bool:
    first = _first_invoice(plan, billing_reason)
    if first and fact.update.status == "failed":
        fact = replace(fact, plan_status=None)  # the confirm that started the plan decides it
    decide = _installment_decision(fact, money)
    for _ in range(SAVE_ATTEMPTS):
        gift_id = money.repo.stripe_target(fact.invoice_id).donation_id or (plan.id if first else None)
        if gift_id:
            _, changed = change_gift(
                money.repo, gift_id, decide, source=event.type, event=event, now=money.now
            )
            return changed
        gift = installment(plan, new_id(), fact.invoice_id, fact.at)
        decided = decide(GiftRecord(gift, [], []))
        assert decided is not None  # a new gift always takes its first fact
        decision = replace(decided, installment=fact.invoice_id)
        try:
            commit(
                money.repo,
                GiftRecord(gift.model_copy(update={"version": -1}), [], []),
                decision,
                source=event.type,
                event=event,
                now=money.now,
                new=True,
            )
            return True
        except (ConflictError, ConcurrentUpdateError):
            plan = money.repo.get_plan(plan.id) or plan  # another delivery recorded it first
    raise UpstreamError("the plan kept changing underneath; retry")


def subscription_changed(fact: SubscriptionChanged, money: Money, event: StripeEvent) -> bool | None:
    """The plan's state at Stripe: an ended subscription ends the plan, and the donor is told."""
    plan = _plan_for(money, fact.recurring_id, fact.subscription_id)
    if plan is None:
        return None
    status: PlanStatus | None = "canceled" if fact.ended else fact.status
    if plan.status == "incomplete" and status != "canceled":
        status = None  # the first installment's payment decides when it starts
    return change_plan(
        money, plan.id, status, source=event.type, event=event, next_payment_at=fact.current_period_end
    )


def change_plan(
    money: Money,
    plan_id: str,
    status: PlanStatus | None,
    *,
    source: str,
    actor: str = "stripe",
    event: StripeEvent | None = None,
    next_payment_at: str | None = None,
    details: dict[str, str] | None = None,
) -> bool:
    """Move a plan and commit it with its audit entry, the donor's notice when it ends, and
    the webhook event's mark, in one transaction."""
    for _ in range(SAVE_ATTEMPTS):
        plan = _load_plan(money, plan_id)
        timestamp = money.now()
        moved = move_plan(plan, status, timestamp, timestamp, next_payment_at=next_payment_at)
        if moved is plan and not details:
            if event:
                money.repo.mark_event_processed(event, timestamp)
            return False
        stored = moved.model_copy(update={"version": plan.version + 1})
        work = money.repo.unit_of_work()
        work.save_plan(stored, plan.version)
        entry = AuditEntry(
            actor,
            source,
            timestamp,
            {"from_status": plan.status, "to_status": stored.status, **(details or {})},
        )
        work.audit("recurring", plan.id, entry, event.id if event else f"v{stored.version}")
        for message in _plan_messages(plan, stored, money):
            work.send(message)
        if event:
            work.event_processed(event, timestamp)
        try:
            work.commit()
        except ConcurrentUpdateError:
            continue
        return True
    raise UpstreamError("the plan kept changing underneath; retry")


def _plan_messages(before: RecurringPlan, after: RecurringPlan, money: Money) -> list[OutboxMessage]:
    ended = after.status == "canceled" and before.status not in ("canceled", "incomplete")
    return [money.mail.canceled(after, money.now())] if ended and money.mail else []


def cancel_plan(plan_id: str, money: Money, *, actor: str = "donor") -> RecurringPlan:
    """End a plan at Stripe, then here, with the donor's confirmation email. Safe to repeat,
    and after a crash between the two: Stripe answers an ended subscription as it stands."""
    plan = _load_plan(money, plan_id)
    if plan.status == "canceled":
        return plan
    if plan.subscription_id:
        money.payments.cancel_subscription(plan.subscription_id)
    change_plan(money, plan_id, "canceled", source="donor_link", actor=actor)
    return _load_plan(money, plan_id)


def card_update_secret(plan_id: str, money: Money) -> str:
    """A SetupIntent's client secret for the donor's new card (Stripe.js confirms it)."""
    plan = _load_plan(money, plan_id)
    if plan.status == "canceled" or plan.subscription_id is None:
        raise ConflictError("this monthly gift has ended; there is no card to update")
    return money.payments.create_card_update_intent(plan.id, plan.customer_id).client_secret


def update_card(plan_id: str, setup_intent_id: str, money: Money) -> RecurringPlan:
    """Make the card saved on the SetupIntent the plan's card, from the next installment on."""
    plan = _load_plan(money, plan_id)
    if plan.status == "canceled" or plan.subscription_id is None:
        raise ConflictError("this monthly gift has ended; there is no card to update")
    try:
        setup = money.payments.retrieve_setup_intent(setup_intent_id)
    except NotFoundError:
        setup = None
    if setup is None or setup.customer != plan.customer_id:  # only a card saved for this plan
        raise ValidationFailedError(
            "setup_intent_id names no card saved for this gift",
            fields=[{"field": "setup_intent_id", "message": "not a SetupIntent from this page"}],
        )
    if setup.status != "succeeded" or setup.payment_method is None:
        raise ConflictError("the new card has not been confirmed yet")
    money.payments.set_default_payment_method(plan.subscription_id, plan.customer_id, setup.payment_method)
    change_plan(money, plan_id, None, source="donor_link", actor="donor", details={"card": "updated"})
    return _load_plan(money, plan_id)


def get_plan(plan_id: str, money: Money) -> PlanRecord:
    record = money.repo.get_plan_record(plan_id)
    if record is None:
        raise NotFoundError("no monthly gift with this id", fields=[{"field": "id", "message": "not found"}])
    return record


def list_plans(status: str, limit: int, cursor: str | None, money: Money) -> Page:
    return money.repo.list_plans(status, limit, cursor)


def _plan_for(money: Money, recurring_id: str | None, subscription_id: str) -> RecurringPlan | None:
    plan_id = recurring_id or money.repo.stripe_target(subscription_id).recurring_id
    return money.repo.get_plan(plan_id) if plan_id else None


def _load_plan(money: Money, plan_id: str) -> RecurringPlan:
    plan = money.repo.get_plan(plan_id)
    if plan is None:
        raise NotFoundError("no monthly gift with this id", fields=[{"field": "id", "message": "not found"}])
    return plan
