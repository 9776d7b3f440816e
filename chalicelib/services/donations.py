"""Use cases for gifts: create, confirm, record payment facts, read. A monthly or annual gift
starts the same way; its confirm starts the plan (chalicelib/services/recurring.py)."""

from __future__ import annotations

import hashlib
import logging
import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.donation import Donation, DonationRules, PaymentUpdate, apply_settlement, apply_update
from chalicelib.domain.errors import (
    ConcurrentUpdateError,
    ConflictError,
    IdempotencyKeyReusedError,
    PaymentDeclinedError,
    StewardError,
    UpstreamError,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.recurring import plan_for
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.forms import DeclineGuard, DeclineSlot, DonationScreening
from chalicelib.services.gifts import Decision, change_gift, load_gift
from chalicelib.services.ports import (
    DonationPage,
    GiftRecord,
    IdempotencyRecord,
    PaymentIntentInfo,
    Payments,
    Repository,
    Settlement,
)
from chalicelib.services.receipts import GiftMail

if TYPE_CHECKING:
    from chalicelib.domain.donation_forms import DonationForm
    from chalicelib.domain.finding import GiftFilter
    from chalicelib.services.facts import StripeEvent

log = logging.getLogger("steward")
SAVE_ATTEMPTS = 5
# A charge in one of these states was not declined: it gives its decline slot back.
NOT_DECLINED = {"succeeded", "processing", "requires_action", "requires_capture"}
ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True)
class DonationCreated:
    """What POST /donations answers: the gift's id and the SetupIntent's secret."""

    donation_id: str
    client_secret: str
    publishable_key: str


@dataclass(frozen=True)
class ConfirmResult:
    """What confirming a gift answers: its status, and a secret when 3-D Secure asks."""

    donation_id: str
    status: str
    client_secret: str | None = None
    failure_reason: str | None = None

    @classmethod
    def of(cls, donation: Donation) -> ConfirmResult:
        return cls(donation.id, donation.status, failure_reason=donation.failure_reason)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_donation(
    request: DonationForm,
    idempotency_key: str | None,
    *,
    repo: Repository,
    payments: Payments,
    screening: DonationScreening | None = None,
    rules: DonationRules | None = None,
    now: Clock = utc_now,
) -> DonationCreated:
    """Write a pending gift and the SetupIntent the browser confirms; a repeated key replays.
    Every call, a replay too, counts against the IP's limit before anything else. A monthly
    or annual gift also gets its Stripe Customer and its plan, `incomplete` until confirmed."""
    if screening and not screening.admit(request.form_token, request.honeypot):
        return _decoy(payments.publishable_key)
    request_hash = _sha256(request.content())  # the same, read by the model or without it
    key_hash = _sha256(idempotency_key) if idempotency_key else None
    if key_hash:
        existing = repo.get_idempotency(key_hash)
        if existing:
            return _replay(existing, request_hash, repo, payments, now)
    donation = new_gift(request, rules, now())
    record = IdempotencyRecord(key_hash, request_hash, donation.id) if key_hash else None
    try:
        repo.create_donation(donation, record)
    except ConflictError:
        assert key_hash is not None
        winner = repo.get_idempotency(key_hash)
        if winner is None:
            raise UpstreamError("the idempotency record vanished; retry") from None
        return _replay(winner, request_hash, repo, payments, now)
    return _with_setup_intent(donation, repo, payments, now)


def new_gift(request: DonationForm, rules: DonationRules | None, timestamp: str) -> Donation:
    """The pending gift a request describes: a covered fee raises the amount and is kept on its
    own; a premium's fair-market value decides the deductible amount."""
    covered = rules.covered_fee(request.amount) if rules and request.cover_fee else 0
    premium = rules.premium(request.premium) if rules else None
    tribute = request.tribute
    gift_id = new_id()
    return Donation(
        id=gift_id,
        recurring_id=gift_id if request.frequency != "one_time" else None,
        amount=request.amount + covered,
        covered_fee=covered,
        currency=request.currency,
        frequency=request.frequency,
        fund=request.fund,
        campaign=request.campaign or None,
        anonymous=request.anonymous,
        email=request.email,
        first_name=request.first_name,
        last_name=request.last_name,
        tribute_kind=tribute.kind if tribute else None,
        tribute_name=tribute.name if tribute else None,
        tribute_notify_name=tribute.notify_name if tribute else None,
        tribute_notify_email=tribute.notify_email if tribute else None,
        premium_id=premium.id if premium else None,
        premium_name=premium.name if premium else None,
        premium_value=premium.value if premium else 0,
        utm_source=request.utm_source or None,
        utm_medium=request.utm_medium or None,
        utm_campaign=request.utm_campaign or None,
        created_at=timestamp,
        updated_at=timestamp,
    )


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def _decoy(publishable_key: str) -> DonationCreated:
    """What a caught bot sees: a real answer's shape; nothing stored, nothing sent to Stripe."""
    return DonationCreated(new_id(), f"seti_{_random(24)}_secret_{_random(25)}", publishable_key)


def _replay(
    existing: IdempotencyRecord,
    request_hash: str,
    repo: Repository,
    payments: Payments,
    now: Clock,
) -> DonationCreated:
    if existing.request_hash != request_hash:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was used with a different request",
            fields=[{"field": "Idempotency-Key", "message": "already used with another body"}],
        )
    return _with_setup_intent(_load(repo, existing.donation_id), repo, payments, now)


def _with_setup_intent(
    donation: Donation,
    repo: Repository,
    payments: Payments,
    now: Clock,
) -> DonationCreated:
    if donation.setup_intent_id is None:
        _refuse_unless_pending(donation)
        customer = None
        if donation.frequency != "one_time":  # Stripe answers the same Customer to a retry
            name = f"{donation.first_name} {donation.last_name}"
            customer = payments.create_customer(donation.id, donation.email, name)
        intent = payments.create_setup_intent(donation, customer)
        stored = donation.model_copy(
            update={
                "setup_intent_id": intent.id,
                "updated_at": now(),
                "version": donation.version + 1,
            }
        )
        work = repo.unit_of_work()
        work.save_donation(stored, donation.version)
        if customer:
            work.save_plan(plan_for(stored, customer), None)
        try:
            work.commit()
        except ConcurrentUpdateError:
            donation = _load(repo, donation.id)  # a concurrent request stored its intent first
            if donation.setup_intent_id is None:  # or the sweep gave the gift up meanwhile
                _refuse_unless_pending(donation)
                raise UpstreamError("the gift changed underneath; retry") from None
        else:
            return DonationCreated(donation.id, intent.client_secret, payments.publishable_key)
    intent = payments.retrieve_setup_intent(donation.setup_intent_id)
    return DonationCreated(donation.id, intent.client_secret, payments.publishable_key)


def _refuse_unless_pending(donation: Donation) -> None:
    """A SetupIntent is handed out only for a gift that can still be charged."""
    if donation.status != "pending":
        raise ConflictError(f"this gift is {donation.status}; start a new one (with a new Idempotency-Key)")


@dataclass(frozen=True)
class Money:
    """What a payment use case talks to: the table, Stripe, the receipt writer, the clock."""

    repo: Repository
    payments: Payments
    mail: GiftMail | None = None
    now: Clock = utc_now


def confirm_donation(
    donation_id: str,
    *,
    repo: Repository,
    payments: Payments,
    guard: DeclineGuard | None = None,
    mail: GiftMail | None = None,
    now: Clock = utc_now,
) -> ConfirmResult:
    """Charge the card the browser saved on the SetupIntent; safe to call again and again,
    and after a crash at any step: the PaymentIntent is created unconfirmed, its id recorded
    with a conditional write, and only the recorded one is ever confirmed. A monthly or annual
    gift starts its plan instead (chalicelib/services/recurring.py)."""
    money = Money(repo, payments, mail, now)
    donation = _load(repo, donation_id)
    if donation.frequency != "one_time":
        from chalicelib.services.recurring import start_plan

        return start_plan(donation, money, guard)
    late = donation.status == "abandoned" and donation.payment_intent_id is not None
    if donation.status != "pending" and not late:
        return ConfirmResult.of(donation)  # settled: no call to Stripe
    if guard:
        guard.count_attempt()  # every other confirm calls Stripe, an abandoned gift's too
    if late:
        assert donation.payment_intent_id is not None
        return _late_facts(donation, donation.payment_intent_id, money)
    intent = None
    if donation.payment_intent_id:
        intent = payments.retrieve_payment_intent(donation.payment_intent_id)
        if intent.status != "requires_confirmation":
            if guard and intent.failure_reason and intent.status != "succeeded":
                guard.count_decline()  # declined, but its answer never reached us: it counts now
            return _sync(donation, intent, money)
    payment_method = None if intent else saved_card(donation, payments)
    slot = guard.reserve() if guard else None  # before this card reaches Stripe
    try:
        if payment_method:
            donation, intent = _new_intent(donation, payment_method, money)
            if intent is None or donation.status != "pending" or intent.status != "requires_confirmation":
                if slot:
                    slot.release()  # another request charges this gift
                    slot = None
                if intent is None:
                    return ConfirmResult.of(donation)
                return _sync(donation, intent, money)
        assert intent is not None
        intent = payments.confirm_payment_intent(intent.id)
    except PaymentDeclinedError as exc:  # the gift's answer, not an error: status failed, with why
        assert intent is not None
        declined = PaymentUpdate(status="failed", payment_intent_id=intent.id, failure_reason=exc.message)
        return ConfirmResult.of(record_payment(money, donation.id, declined, source="confirm"))
    except Exception:
        if slot:  # an outage (Stripe or the table) is no decline: the retry takes a slot again
            give_back(slot)
        raise
    if slot and intent.status in NOT_DECLINED:
        slot.release()
    return _sync(donation, intent, money)


def give_back(slot: DeclineSlot) -> None:
    try:
        slot.release()
    except StewardError as exc:  # the table is down too; the slot expires with its window
        log.warning("decline slot not given back: %s", exc.message)


def _late_facts(donation: Donation, payment_intent_id: str, money: Money) -> ConfirmResult:
    """An abandoned gift is never charged from here, but the donor may have finished 3-D
    Secure after the sweep: what Stripe says about its PaymentIntent is recorded and answered,
    so a donor who paid is not told the gift failed (and does not give twice)."""
    intent = money.payments.retrieve_payment_intent(payment_intent_id)
    return ConfirmResult.of(record_payment(money, donation.id, update_from_intent(intent), source="confirm"))


def saved_card(donation: Donation, payments: Payments) -> str:
    if donation.setup_intent_id is None:
        raise ConflictError("this gift has no card setup yet; create it again")
    setup = payments.retrieve_setup_intent(donation.setup_intent_id)
    if setup.status != "succeeded" or setup.payment_method is None:
        raise ConflictError("the card has not been confirmed with Stripe.js yet")
    return setup.payment_method


def _new_intent(
    donation: Donation, payment_method: str, money: Money
) -> tuple[Donation, PaymentIntentInfo | None]:
    """Create an unconfirmed PaymentIntent (it charges nothing) and record its id unless another
    request recorded one first; returns the gift as stored and the PaymentIntent it records."""
    payments = money.payments
    created = payments.create_payment_intent(donation, payment_method)

    def decide(record: GiftRecord) -> Decision | None:
        current = record.donation
        if current.payment_intent_id or current.status != "pending":
            return None
        stored = current.model_copy(update={"payment_intent_id": created.id})
        return Decision(stored, details={"payment_intent_id": created.id})

    record, _ = change_gift(money.repo, donation.id, decide, source="confirm", now=money.now)
    current = record.donation
    if current.payment_intent_id == created.id:  # ours, or Stripe answered the same key alike
        return current, created
    try:
        payments.cancel_payment_intent(created.id)  # never recorded, so never confirmed anyway
    except UpstreamError:
        pass
    if current.payment_intent_id is None:
        return current, None
    return current, payments.retrieve_payment_intent(current.payment_intent_id)


def _sync(donation: Donation, intent: PaymentIntentInfo, money: Money) -> ConfirmResult:
    stored = record_payment(money, donation.id, update_from_intent(intent), source="confirm")
    if intent.status == "requires_action":
        return ConfirmResult(donation.id, "requires_action", intent.client_secret)
    return ConfirmResult.of(stored)


def update_from_intent(intent: PaymentIntentInfo) -> PaymentUpdate:
    """The facts a PaymentIntent states about its gift."""
    if intent.status == "succeeded" and intent.charge_id:
        return PaymentUpdate(status="succeeded", payment_intent_id=intent.id, charge_id=intent.charge_id)
    if intent.failure_reason or intent.status == "canceled":
        return PaymentUpdate(
            status="failed",
            payment_intent_id=intent.id,
            charge_id=intent.charge_id,
            failure_reason=intent.failure_reason or "canceled",
        )
    return PaymentUpdate(payment_intent_id=intent.id)


def payment_decision(
    before: Donation, update: PaymentUpdate, money: Money, settled: Settlement | None = None
) -> Decision | None:
    """The gift with a payment fact merged in (and the fee and net, when read); once it is
    newly paid, its receipt goes in the same transaction. None when nothing changes."""
    timestamp = money.now()
    merged = apply_update(before, update, timestamp)
    if settled:
        merged = apply_settlement(merged, settled.fee, settled.net, settled.currency, timestamp)
    if merged is before:
        return None
    paid = before.status != "succeeded" and merged.status == "succeeded"
    messages = money.mail.paid(merged, timestamp) if paid and money.mail else ()
    return Decision(merged, messages=messages)


def settlement_for(money: Money, donation: Donation, charge_id: str | None) -> Settlement | None:
    """The charge's fee and net, read from Stripe while the gift does not have them yet."""
    if charge_id is None or donation.fee is not None:
        return None
    return money.payments.settlement(charge_id)


def record_payment(
    money: Money,
    donation_id: str,
    update: PaymentUpdate,
    *,
    source: str,
    event: StripeEvent | None = None,
    record: GiftRecord | None = None,
) -> Donation:
    """Merge a payment fact into the gift and commit it; the gift as stored afterwards."""
    record = record or load_gift(money.repo, donation_id)
    settled = None
    if update.status == "succeeded":
        settled = settlement_for(money, record.donation, update.charge_id)
    stored, _ = change_gift(
        money.repo,
        donation_id,
        lambda current: payment_decision(current.donation, update, money, settled),
        source=source,
        event=event,
        record=record,
        now=money.now,
    )
    return stored.donation


def get_donation(donation_id: str, *, repo: Repository) -> GiftRecord:
    """The gift for staff: with its refunds, disputes and audit trail."""
    return load_gift(repo, donation_id, with_history=True)


def list_donations(
    start: str,
    end: str,
    limit: int,
    cursor: str | None,
    *,
    repo: Repository,
    include_abandoned: bool = False,
    filters: GiftFilter | None = None,
) -> DonationPage:
    """Gifts created in [start, end] that pass the filters; abandoned ones only when asked
    for (or when the status filter names them)."""
    return repo.list_donations(
        start, end, limit, cursor, include_abandoned=include_abandoned, filters=filters
    )


def _load(repo: Repository, donation_id: str) -> Donation:
    return load_gift(repo, donation_id).donation
