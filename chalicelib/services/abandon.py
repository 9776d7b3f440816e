"""The sweep: gifts left pending are marked abandoned, once Stripe shows no payment for them."""

from __future__ import annotations

import logging

from chalicelib.domain.donation import AbandonRules, Donation, PaymentUpdate, apply_update, should_abandon
from chalicelib.domain.errors import ConcurrentUpdateError, NotFoundError, StewardError
from chalicelib.domain.recurring import move_plan
from chalicelib.services.clock import Clock, seconds_before, utc_now
from chalicelib.services.donations import Money, record_payment, update_from_intent
from chalicelib.services.gifts import Decision, change_gift
from chalicelib.services.ports import GiftRecord, Payments, Repository
from chalicelib.services.receipts import GiftMail

log = logging.getLogger("steward")
SWEEP_LIMIT = 100  # gifts looked at per run; the next run takes the rest
ABANDONED = PaymentUpdate(status="abandoned")
DEFAULT_RULES = AbandonRules()


def sweep_abandoned(
    *,
    repo: Repository,
    payments: Payments,
    rules: AbandonRules = DEFAULT_RULES,
    limit: int = SWEEP_LIMIT,
    mail: GiftMail | None = None,
    now: Clock = utc_now,
) -> dict[str, int]:
    """Mark abandoned each gift still pending after rules.pending_hours, or after
    rules.no_setup_minutes without a SetupIntent. A gift with a PaymentIntent first takes
    what Stripe says about it, so money taken is recorded, never hidden."""
    timestamp = now()
    pending_before = seconds_before(timestamp, rules.pending_hours * 3600)
    no_setup_before = seconds_before(timestamp, rules.no_setup_minutes * 60)
    candidates = repo.pending_donations(False, no_setup_before, limit)
    if len(candidates) < limit:
        candidates += repo.pending_donations(True, pending_before, limit - len(candidates))
    counts = {"abandoned": 0, "recorded": 0}
    for candidate in candidates:
        gift = repo.get_donation(candidate.id)  # the index lags; decide on a consistent read
        if gift is None or not should_abandon(gift, pending_before, no_setup_before):
            continue
        try:
            outcome = _settle(gift, Money(repo, payments, mail, now))
        except StewardError as exc:  # one gift's trouble never stops the others
            log.warning("sweep left gift %s for the next run: %s", gift.id, type(exc).__name__)
            continue
        if outcome:
            counts[outcome] += 1
    return counts


def _settle(gift: Donation, money: Money) -> str | None:
    if gift.payment_intent_id:
        try:
            intent = money.payments.retrieve_payment_intent(gift.payment_intent_id)
        except NotFoundError:  # Stripe has no such PaymentIntent: no money comes through it
            log.warning("gift %s names a PaymentIntent Stripe does not know", gift.id)
            intent = None
        if intent:
            gift = record_payment(money, gift.id, update_from_intent(intent), source="sweep")
            if gift.status != "pending":
                return "recorded"
    version = gift.version
    plan = money.repo.get_plan(gift.id) if gift.recurring_id == gift.id else None
    if plan and plan.subscription_id and plan.status == "incomplete":
        money.payments.cancel_subscription(plan.subscription_id)  # it must never charge later

    def decide(record: GiftRecord) -> Decision | None:
        if record.donation.version != version:
            raise ConcurrentUpdateError("the gift moved on since it was read")
        abandoned = apply_update(record.donation, ABANDONED, money.now())
        if plan is None or plan.status != "incomplete":
            return Decision(abandoned)
        ended = move_plan(plan, "canceled", money.now(), money.now())
        ended = ended.model_copy(update={"version": plan.version + 1})
        return Decision(abandoned, plan=ended, plan_version=plan.version)

    try:  # only if unchanged since read
        change_gift(money.repo, gift.id, decide, source="sweep", now=money.now)
    except ConcurrentUpdateError:
        return None  # it moved on meanwhile; the next run looks again
    return "abandoned"
