"""Stripe webhooks: verify, store once by event id, apply each effect exactly once."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.domain.donation import DisputeStatus, PaymentUpdate, refund_status
from chalicelib.domain.errors import InvalidSignatureError, NotFoundError
from chalicelib.domain.ids import is_id
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.donations import apply_fact, update_from_intent
from chalicelib.services.ports import PaymentIntentInfo, Payments, Repository

log = logging.getLogger("steward")
DISPUTE_OUTCOMES: dict[str, DisputeStatus] = {"won": "won", "warning_closed": "won", "lost": "lost"}


def handle_stripe_event(
    payload: bytes,
    signature: str | None,
    *,
    repo: Repository,
    payments: Payments,
    now: Clock = utc_now,
) -> dict[str, Any]:
    event = payments.verify_event(payload, signature)
    event_id, event_type = event.get("id"), event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(obj, dict)):
        raise InvalidSignatureError("the event has no id, type or data.object")
    stored = repo.put_event(event_id, event_type, payload.decode("utf-8"), now())
    if stored.processed:
        return {"received": True, "duplicate": True}
    target = _effect(event_type, obj)
    donation_id = _donation_for(target[0], repo, payments) if target else None
    donation = repo.get_donation(donation_id) if donation_id else None
    if target is None or donation is None:  # not a gift of ours, or nothing to apply
        if target is not None:
            log.warning("stripe event %s (%s) is for no gift of ours; acknowledged", event_id, event_type)
        repo.mark_event_processed(event_id, now())
        return {"received": True, "applied": False}
    fact = target[1]
    if isinstance(fact, PaymentIntentInfo):
        fact = update_from_intent(fact, payments, fee_known=donation.fee is not None)
    _, changed = apply_fact(repo, donation, fact, source=event_type, event_id=event_id, now=now)
    return {"received": True, "applied": changed}


Target = tuple[tuple[str | None, str | None], PaymentUpdate | PaymentIntentInfo]


def _effect(event_type: str, obj: dict[str, Any]) -> Target | None:
    """(donation id from metadata, Stripe id to look up) and the update, or None to ignore."""
    if event_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        intent = PaymentIntentInfo.from_stripe(obj)
        # Every PaymentIntent Steward creates names its gift in metadata: without it, not ours.
        return (intent.donation_id, intent.id if intent.donation_id else None), intent
    if event_type == "charge.refunded":
        amount, refunded = obj.get("amount"), obj.get("amount_refunded")
        if not isinstance(amount, int) or not isinstance(refunded, int):
            return None
        update = PaymentUpdate(
            status=refund_status(amount, refunded), charge_id=obj.get("id"), amount_refunded=refunded
        )
        return (_metadata_id(obj), obj.get("payment_intent") or obj.get("id")), update
    if event_type == "charge.dispute.created":
        return (None, obj.get("payment_intent") or obj.get("charge")), PaymentUpdate(
            status="disputed", dispute_status="open"
        )
    if event_type == "charge.dispute.closed":
        outcome = DISPUTE_OUTCOMES.get(str(obj.get("status")))
        if outcome is None:
            return None
        return (None, obj.get("payment_intent") or obj.get("charge")), PaymentUpdate(
            status="disputed", dispute_status=outcome
        )
    return None


def _metadata_id(obj: dict[str, Any]) -> str | None:
    metadata = obj.get("metadata")
    return metadata.get("donation_id") if isinstance(metadata, dict) else None


def _donation_for(
    ids: tuple[str | None, str | None],
    repo: Repository,
    payments: Payments,
) -> str | None:
    donation_id, stripe_id = ids
    if isinstance(donation_id, str) and is_id(donation_id):
        return donation_id
    if not isinstance(stripe_id, str):
        return None
    found = repo.donation_id_for(stripe_id)
    if found is None and stripe_id.startswith("pi_"):
        try:
            found = payments.retrieve_payment_intent(stripe_id).donation_id
        except NotFoundError:  # Stripe knows no such PaymentIntent on this account
            return None
    return found if found and is_id(found) else None
