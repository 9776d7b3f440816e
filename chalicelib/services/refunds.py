"""Staff refunds: reserved here before Stripe hears of them, so two refunds racing can never
take more than was paid; sent to Stripe with an idempotency key from the refund's own id;
recorded from Stripe's answer at once, and confirmed again by its webhook."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chalicelib.domain.aftermath import Refund, check_refund, merge_refund, summarize
from chalicelib.domain.errors import ConflictError, IdempotencyKeyReusedError, StewardError, UpstreamError
from chalicelib.domain.ids import derived_id, new_id
from chalicelib.services.clock import seconds_before
from chalicelib.services.donations import Money
from chalicelib.services.gifts import Decision, change_gift, load_gift
from chalicelib.services.ports import GiftRecord, OutboxMessage

if TYPE_CHECKING:
    from chalicelib.domain.gift_requests import RefundRequest

log = logging.getLogger("steward")
# A refund reserved but never answered by Stripe (the process died in between) is sent again,
# with the same idempotency key, by a retry with its Idempotency-Key or by the next refund of
# the same gift, once its sender's claim (the `updated_at` of a `requested` refund) is this old;
# the one that takes it over claims it again with a conditional write, so only one sends it.
RESUME_AFTER_SECONDS = 60
STRIPE_STATES = {"pending": "pending", "requires_action": "pending", "succeeded": "succeeded"}


def refund_gift(
    donation_id: str, request: RefundRequest, staff: str, idempotency_key: str | None, money: Money
) -> Refund:
    """Refund all or part of a paid gift; a retry with the same Idempotency-Key answers the
    same refund and sends nothing twice."""
    refund_id = derived_id(f"refund:{donation_id}:{idempotency_key}") if idempotency_key else new_id()
    record = load_gift(money.repo, donation_id)
    for waiting in record.refunds:
        if waiting.status == "requested" and waiting.id != refund_id:
            resume_refund(waiting, money, staff)

    def reserve(current: GiftRecord) -> Decision | None:
        if any(r.id == refund_id for r in current.refunds):
            return None
        amount = check_refund(current.donation, current.refunds, request.amount)
        timestamp = money.now()
        refund = Refund(
            id=refund_id,
            donation_id=donation_id,
            amount=amount,
            currency=current.donation.currency,
            reason=request.reason,
            note=request.note,
            actor=staff,
            status="requested",
            sending_at=timestamp,  # this request sends it
            created_at=timestamp,
            updated_at=timestamp,
        )
        return Decision(current.donation, refunds=(refund,), details=_details(refund))

    record, reserved = change_gift(
        money.repo, donation_id, reserve, source="staff", actor=staff, now=money.now
    )
    refund = next(r for r in record.refunds if r.id == refund_id)
    asked = (request.amount or refund.amount, request.reason, request.note)
    if asked != (refund.amount, refund.reason, refund.note):
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was used with a different refund",
            fields=[{"field": "Idempotency-Key", "message": "already used with another body"}],
        )
    if refund.status != "requested":
        return refund
    taken = refund if reserved else _take_send(refund, money, staff)
    if taken is None:
        raise ConflictError("this refund is being sent to Stripe by another request; retry in a moment")
    return send_refund(taken, record, money, staff)


def _take_send(refund: Refund, money: Money, staff: str) -> Refund | None:
    """Take the sending of a reserved refund (a conditional write), so that one request at a
    time sends it: Stripe's idempotency key is not relied on alone. None when another request
    took it less than RESUME_AFTER_SECONDS ago, or Stripe has answered it meanwhile. Audited as
    `staff`, who took it over; the refund keeps the name of who asked for it."""

    def decide(current: GiftRecord) -> Decision | None:
        stored = next((r for r in current.refunds if r.id == refund.id), None)
        timestamp = money.now()
        if stored is None or stored.status != "requested":
            return None
        if stored.sending_at and stored.sending_at > seconds_before(timestamp, RESUME_AFTER_SECONDS):
            return None
        taken = stored.model_copy(update={"sending_at": timestamp, "updated_at": timestamp})
        return Decision(current.donation, refunds=(taken,), details=_details(taken))

    record, taken = change_gift(
        money.repo, refund.donation_id, decide, source="staff", actor=staff, now=money.now
    )
    return next(r for r in record.refunds if r.id == refund.id) if taken else None


def resume_refund(refund: Refund, money: Money, staff: str) -> Refund:
    """Send a refund another request reserved, once that request's hold is over (it died, or
    Stripe did not answer it); only the caller whose conditional write takes it sends it.
    Answers the refund as it stands."""
    taken = _take_send(refund, money, staff)
    if taken is None:
        return refund
    return send_refund(taken, load_gift(money.repo, refund.donation_id), money, staff)


def send_refund(refund: Refund, record: GiftRecord, money: Money, staff: str) -> Refund:
    """Send a reserved refund to Stripe and record its answer (audited as `staff`, who sent
    it; the refund keeps the name of who asked for it); a refusal gives the amount back."""
    gift = record.donation
    payment = gift.payment_intent_id or gift.charge_id
    metadata = {"donation_id": gift.id, "refund_id": refund.id}
    try:
        if payment is None:
            raise ConflictError("this gift has no payment at Stripe to refund")
        answer = money.payments.create_refund(refund.id, payment, refund.amount, refund.reason, metadata)
    except UpstreamError:
        _give_send_back(refund, money)  # Stripe did not answer: a retry may send it at once
        raise
    except ConflictError as exc:
        failed = refund.model_copy(update={"status": "failed", "failure_reason": exc.message[:300]})
        _record(failed, money, source="staff", actor=staff)
        raise
    status = STRIPE_STATES.get(answer.status, "failed" if answer.status == "failed" else "canceled")
    changes = {"status": status, "stripe_refund_id": answer.id, "failure_reason": answer.failure_reason}
    return _record(refund.model_copy(update=changes), money, source="staff", actor=staff)


def _give_send_back(refund: Refund, money: Money) -> None:
    def decide(current: GiftRecord) -> Decision | None:
        stored = next((r for r in current.refunds if r.id == refund.id), None)
        if stored is None or stored.status != "requested" or stored.sending_at != refund.sending_at:
            return None
        return Decision(current.donation, refunds=(stored.model_copy(update={"sending_at": None}),))

    try:
        change_gift(money.repo, refund.donation_id, decide, source="staff", actor=refund.actor, now=money.now)
    except StewardError as exc:  # it is taken again once RESUME_AFTER_SECONDS old
        log.warning("refund %s kept its send for a while: %s", refund.id, exc.message)


def _record(update: Refund, money: Money, *, source: str, actor: str) -> Refund:
    def decide(current: GiftRecord) -> Decision | None:
        stored = next((r for r in current.refunds if r.id == update.id), None)
        merged = merge_refund(stored, update.model_copy(update={"updated_at": money.now()}))
        return None if merged is None else refund_change(current, merged, stored, money)

    record, _ = change_gift(money.repo, update.donation_id, decide, source=source, actor=actor, now=money.now)
    return next(r for r in record.refunds if r.id == update.id)


def refund_change(current: GiftRecord, refund: Refund, before: Refund | None, money: Money) -> Decision:
    """The gift with this refund saved; the donor's corrected notice once Stripe has taken it."""
    taken = refund.status in ("pending", "succeeded") and (before is None or before.status == "requested")
    messages: tuple[OutboxMessage, ...] = ()
    if taken and money.mail:
        refunds = [r for r in current.refunds if r.id != refund.id] + [refund]
        gift = summarize(current.donation, refunds, current.disputes)
        messages = (money.mail.refunded(gift, refund, money.now()),)
    lost = refund.status == "failed" and before is not None and before.status in ("pending", "succeeded")
    if lost and money.mail:  # the donor was told it was coming back: finance must know it is not
        messages = (money.mail.refund_failed(refund, money.now()),)
    return Decision(current.donation, refunds=(refund,), messages=messages, details=_details(refund))


def _details(refund: Refund) -> dict[str, str]:
    return {"refund_id": refund.id, "refund_status": refund.status, "refund_amount": str(refund.amount)}
