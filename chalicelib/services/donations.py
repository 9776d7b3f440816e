"""Use cases for one-time gifts: create, confirm, record payment facts, read."""

from __future__ import annotations

import hashlib
import logging
import secrets
import string
from dataclasses import dataclass

from chalicelib.domain.donation import Donation, DonationRequest, PaymentUpdate, apply_update
from chalicelib.domain.errors import (
    ConcurrentUpdateError,
    ConflictError,
    IdempotencyKeyReusedError,
    NotFoundError,
    PaymentDeclinedError,
    StewardError,
    UpstreamError,
)
from chalicelib.domain.ids import new_id
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.forms import DeclineGuard, DeclineSlot, DonationScreening
from chalicelib.services.ports import (
    DonationPage,
    IdempotencyRecord,
    PaymentIntentInfo,
    Payments,
    Repository,
)

log = logging.getLogger("steward")
SAVE_ATTEMPTS = 5
# A charge in one of these states was not declined: it gives its decline slot back.
NOT_DECLINED = {"succeeded", "processing", "requires_action", "requires_capture"}
ALPHANUMERIC = string.ascii_letters + string.digits
ACTORS = {"api": "donor", "confirm": "donor", "sweep": "system"}


@dataclass(frozen=True)
class DonationCreated:
    donation_id: str
    client_secret: str
    publishable_key: str


@dataclass(frozen=True)
class ConfirmResult:
    donation_id: str
    status: str
    client_secret: str | None = None
    failure_reason: str | None = None

    @classmethod
    def of(cls, donation: Donation) -> ConfirmResult:
        return cls(donation.id, donation.status, failure_reason=donation.failure_reason)


def actor_of(source: str) -> str:
    """Who a change to a gift comes from, for its audit entry: the donor's own requests, the
    system's sweep, or Stripe (every other source is a Stripe event type)."""
    return ACTORS.get(source, "stripe")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_donation(
    request: DonationRequest,
    idempotency_key: str | None,
    *,
    repo: Repository,
    payments: Payments,
    screening: DonationScreening | None = None,
    now: Clock = utc_now,
) -> DonationCreated:
    """Write a pending gift and the SetupIntent the browser confirms; a repeated key replays.
    Every call, a replay too, counts against the IP's limit before anything else."""
    if screening and not screening.admit(request.form_token, request.honeypot):
        return _decoy(payments.publishable_key)
    request_hash = _sha256(request.model_dump_json(exclude={"form_token", "honeypot"}))
    key_hash = _sha256(idempotency_key) if idempotency_key else None
    if key_hash:
        existing = repo.get_idempotency(key_hash)
        if existing:
            return _replay(existing, request_hash, repo, payments, now)
    timestamp = now()
    donation = Donation(
        id=new_id(),
        amount=request.amount,
        currency=request.currency,
        fund=request.fund,
        campaign=request.campaign or None,
        anonymous=request.anonymous,
        email=str(request.email),
        first_name=request.first_name,
        last_name=request.last_name,
        created_at=timestamp,
        updated_at=timestamp,
    )
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
        intent = payments.create_setup_intent(donation)
        stored = donation.model_copy(
            update={
                "setup_intent_id": intent.id,
                "updated_at": now(),
                "version": donation.version + 1,
            }
        )
        try:
            repo.save_donation(stored, donation.version, audit=None)
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


def confirm_donation(
    donation_id: str,
    *,
    repo: Repository,
    payments: Payments,
    guard: DeclineGuard | None = None,
    now: Clock = utc_now,
) -> ConfirmResult:
    """Charge the card the browser saved on the SetupIntent; safe to call again and again,
    and after a crash at any step: the PaymentIntent is created unconfirmed, its id recorded
    with a conditional write, and only the recorded one is ever confirmed."""
    donation = _load(repo, donation_id)
    late = donation.status == "abandoned" and donation.payment_intent_id is not None
    if donation.status != "pending" and not late:
        return ConfirmResult.of(donation)  # settled: no call to Stripe
    if guard:
        guard.count_attempt()  # every other confirm calls Stripe, an abandoned gift's too
    if late:
        assert donation.payment_intent_id is not None
        return _late_facts(donation, donation.payment_intent_id, repo, payments, now)
    intent = None
    if donation.payment_intent_id:
        intent = payments.retrieve_payment_intent(donation.payment_intent_id)
        if intent.status != "requires_confirmation":
            if guard and intent.failure_reason and intent.status != "succeeded":
                guard.count_decline()  # declined, but its answer never reached us: it counts now
            return _sync(donation, intent, repo, payments, now)
    payment_method = None if intent else _saved_card(donation, payments)
    slot = guard.reserve() if guard else None  # before this card reaches Stripe
    try:
        if payment_method:
            donation, intent = _new_intent(donation, payment_method, repo, payments, now)
            if intent is None or donation.status != "pending" or intent.status != "requires_confirmation":
                if slot:
                    slot.release()  # another request charges this gift
                    slot = None
                if intent is None:
                    return ConfirmResult.of(donation)
                return _sync(donation, intent, repo, payments, now)
        assert intent is not None
        intent = payments.confirm_payment_intent(intent.id)
    except PaymentDeclinedError as exc:  # the gift's answer, not an error: status failed, with why
        assert intent is not None
        declined = PaymentUpdate(status="failed", payment_intent_id=intent.id, failure_reason=exc.message)
        return ConfirmResult.of(record_update(repo, donation, declined, source="confirm", now=now))
    except Exception:
        if slot:  # an outage (Stripe or the table) is no decline: the retry takes a slot again
            _give_back(slot)
        raise
    if slot and intent.status in NOT_DECLINED:
        slot.release()
    return _sync(donation, intent, repo, payments, now)


def _give_back(slot: DeclineSlot) -> None:
    try:
        slot.release()
    except StewardError as exc:  # the table is down too; the slot expires with its window
        log.warning("decline slot not given back: %s", exc.message)


def _late_facts(
    donation: Donation, payment_intent_id: str, repo: Repository, payments: Payments, now: Clock
) -> ConfirmResult:
    """An abandoned gift is never charged from here, but the donor may have finished 3-D
    Secure after the sweep: what Stripe says about its PaymentIntent is recorded and answered,
    so a donor who paid is not told the gift failed (and does not give twice)."""
    intent = payments.retrieve_payment_intent(payment_intent_id)
    fact = update_from_intent(intent, payments, fee_known=donation.fee is not None)
    return ConfirmResult.of(record_update(repo, donation, fact, source="confirm", now=now))


def _saved_card(donation: Donation, payments: Payments) -> str:
    if donation.setup_intent_id is None:
        raise ConflictError("this gift has no card setup yet; create it again")
    setup = payments.retrieve_setup_intent(donation.setup_intent_id)
    if setup.status != "succeeded" or setup.payment_method is None:
        raise ConflictError("the card has not been confirmed with Stripe.js yet")
    return setup.payment_method


def _new_intent(
    donation: Donation,
    payment_method: str,
    repo: Repository,
    payments: Payments,
    now: Clock,
) -> tuple[Donation, PaymentIntentInfo | None]:
    """Create an unconfirmed PaymentIntent (it charges nothing) and record its id unless another
    request recorded one first; returns the gift as stored and the PaymentIntent it records."""
    created = payments.create_payment_intent(donation, payment_method)
    current = donation
    for attempt in range(SAVE_ATTEMPTS):
        if attempt:
            current = _load(repo, donation.id)
        if current.payment_intent_id or current.status != "pending":
            break
        stored = current.model_copy(
            update={"payment_intent_id": created.id, "updated_at": now(), "version": current.version + 1}
        )
        audit = {
            "source": "confirm",
            "actor": actor_of("confirm"),
            "from_status": "pending",
            "to_status": "pending",
            "payment_intent_id": created.id,
        }
        try:
            repo.save_donation(stored, current.version, audit=audit)
        except ConcurrentUpdateError:
            continue
        return stored, created
    else:
        raise UpstreamError("the gift kept changing underneath; retry")
    if current.payment_intent_id == created.id:  # Stripe answered the same key with the same one
        return current, created
    try:
        payments.cancel_payment_intent(created.id)  # never recorded, so never confirmed anyway
    except UpstreamError:
        pass
    if current.payment_intent_id is None:
        return current, None
    return current, payments.retrieve_payment_intent(current.payment_intent_id)


def _sync(
    donation: Donation,
    intent: PaymentIntentInfo,
    repo: Repository,
    payments: Payments,
    now: Clock,
) -> ConfirmResult:
    fact = update_from_intent(intent, payments, fee_known=donation.fee is not None)
    stored = record_update(repo, donation, fact, source="confirm", now=now)
    if intent.status == "requires_action":
        return ConfirmResult(donation.id, "requires_action", intent.client_secret)
    return ConfirmResult.of(stored)


def update_from_intent(
    intent: PaymentIntentInfo, payments: Payments, fee_known: bool = False
) -> PaymentUpdate:
    """The facts a PaymentIntent states about its gift (fee and net come from the charge,
    fetched only while the gift does not have them yet)."""
    if intent.status == "succeeded" and intent.charge_id:
        settled = None if fee_known else payments.settlement(intent.charge_id)
        fee, net = (settled.fee, settled.net) if settled else (None, None)
        return PaymentUpdate(
            status="succeeded", payment_intent_id=intent.id, charge_id=intent.charge_id, fee=fee, net=net
        )
    if intent.failure_reason or intent.status == "canceled":
        return PaymentUpdate(
            status="failed",
            payment_intent_id=intent.id,
            charge_id=intent.charge_id,
            failure_reason=intent.failure_reason or "canceled",
        )
    return PaymentUpdate(payment_intent_id=intent.id)


def record_update(
    repo: Repository,
    donation: Donation,
    update: PaymentUpdate,
    *,
    source: str,
    event_id: str | None = None,
    now: Clock = utc_now,
) -> Donation:
    """Merge a fact into the gift; the gift as stored afterwards."""
    return apply_fact(repo, donation, update, source=source, event_id=event_id, now=now)[0]


def apply_fact(
    repo: Repository,
    donation: Donation,
    update: PaymentUpdate,
    *,
    source: str,
    event_id: str | None = None,
    now: Clock = utc_now,
) -> tuple[Donation, bool]:
    """Merge a fact into the gift as read, with optimistic locking (re-read when another writer
    won); marks the webhook event processed in the same write. Returns the stored gift and
    whether this fact changed it."""
    current = donation
    for attempt in range(SAVE_ATTEMPTS):
        if attempt:
            current = _load(repo, donation.id)
        merged = apply_update(current, update, now())
        if merged is current:
            if event_id:
                repo.mark_event_processed(event_id, now())
            return current, False
        stored = merged.model_copy(update={"version": current.version + 1})
        audit = {
            "source": source,
            "actor": actor_of(source),
            "from_status": current.status,
            "to_status": stored.status,
        }
        try:
            repo.save_donation(stored, current.version, audit=audit, event_id=event_id)
        except ConcurrentUpdateError:
            continue
        return stored, True
    raise UpstreamError("the gift kept changing underneath; retry")


def get_donation(donation_id: str, *, repo: Repository) -> Donation:
    return _load(repo, donation_id)


def list_donations(
    start: str,
    end: str,
    limit: int,
    cursor: str | None,
    *,
    repo: Repository,
    include_abandoned: bool = False,
) -> DonationPage:
    """Gifts created in [start, end]; abandoned ones only when asked for."""
    return repo.list_donations(start, end, limit, cursor, include_abandoned=include_abandoned)


def _load(repo: Repository, donation_id: str) -> Donation:
    donation = repo.get_donation(donation_id)
    if donation is None:
        raise NotFoundError("no gift with this id", fields=[{"field": "id", "message": "not found"}])
    return donation
