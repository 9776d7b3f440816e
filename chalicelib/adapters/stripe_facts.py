"""Stripe event → domain fact: the only place that reads a webhook event's JSON.

Reads both the shape of the pinned API version (`2025-03-31.basil`: `latest_charge` is an
id) and the older one localstripe answers in (`latest_charge` expanded, a `charges` list).
Imports no `stripe`: it reads plain dicts, so it is tested without the SDK or the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.errors import InvalidSignatureError
from chalicelib.services.facts import (
    ChargeRefunded,
    DisputeChanged,
    DisputeStatus,
    Fact,
    NotOurs,
    PaymentFailed,
    PaymentSucceeded,
    StripeEvent,
    Unknown,
)
from chalicelib.services.ports import PaymentIntentInfo

DISPUTE_OUTCOMES: dict[str, DisputeStatus] = {"won": "won", "warning_closed": "won", "lost": "lost"}


def payment_intent_info(obj: dict[str, Any]) -> PaymentIntentInfo:
    """Read a PaymentIntent as Stripe sends it (latest_charge is an id, or expanded)."""
    charge = obj.get("latest_charge")
    error = obj.get("last_payment_error")
    metadata = obj.get("metadata")
    return PaymentIntentInfo(
        id=str(obj.get("id")),
        status=str(obj.get("status")),
        client_secret=str(obj.get("client_secret") or ""),
        charge_id=charge.get("id") if isinstance(charge, dict) else charge,
        failure_reason=(error.get("message") or error.get("code")) if isinstance(error, dict) else None,
        donation_id=metadata.get("donation_id") if isinstance(metadata, dict) else None,
    )


def read_event(event: dict[str, Any], raw: str) -> StripeEvent:
    """The verified event's id, type and fact; InvalidSignatureError when it has no id, type
    or data.object (nothing Stripe signs looks like that)."""
    event_id, event_type = event.get("id"), event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(obj, dict)):
        raise InvalidSignatureError("the event has no id, type or data.object")
    return StripeEvent(id=event_id, type=event_type, raw=raw, fact=to_fact(event_type, obj))


def to_fact(event_type: str, obj: dict[str, Any]) -> Fact:
    """What an event's `data.object` states; Unknown for any other type."""
    translate = TRANSLATORS.get(event_type)
    return translate(obj) if translate else Unknown()


def _payment(kind: type[PaymentSucceeded] | type[PaymentFailed]) -> Callable[[dict[str, Any]], Fact]:
    def translate(obj: dict[str, Any]) -> Fact:
        intent = payment_intent_info(obj)
        # Every PaymentIntent Steward creates names its gift in metadata: without it, not ours.
        return kind(intent) if intent.donation_id else NotOurs()

    return translate


def _refunded(obj: dict[str, Any]) -> Fact:
    amount, refunded = obj.get("amount"), obj.get("amount_refunded")
    if not isinstance(amount, int) or not isinstance(refunded, int):
        return Unknown()
    return ChargeRefunded(
        charge_id=obj.get("id"),
        donation_id=_metadata_id(obj),
        payment_id=_text(obj.get("payment_intent") or obj.get("id")),
        amount=amount,
        amount_refunded=refunded,
        refunds=(),
    )


def _dispute_created(obj: dict[str, Any]) -> Fact:
    return _dispute(obj, "open")


def _dispute_closed(obj: dict[str, Any]) -> Fact:
    outcome = DISPUTE_OUTCOMES.get(str(obj.get("status")))
    return Unknown() if outcome is None else _dispute(obj, outcome)


def _dispute(obj: dict[str, Any], status: DisputeStatus) -> Fact:
    return DisputeChanged(
        dispute_id=str(obj.get("id")),
        charge_id=_text(obj.get("charge")),
        payment_id=_disputed_payment(obj),
        amount=int(obj.get("amount") or 0),
        currency=str(obj.get("currency")),
        reason=str(obj.get("reason")),
        status=status,
        evidence_due_by=None,
        created_at="",
    )


def _disputed_payment(obj: dict[str, Any]) -> str | None:
    return _text(obj.get("payment_intent") or obj.get("charge"))


def _metadata_id(obj: dict[str, Any]) -> str | None:
    metadata = obj.get("metadata")
    return _text(metadata.get("donation_id")) if isinstance(metadata, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# Every event type Steward's webhook endpoint is registered for (README, "Deploy").
TRANSLATORS: dict[str, Callable[[dict[str, Any]], Fact]] = {
    "payment_intent.succeeded": _payment(PaymentSucceeded),
    "payment_intent.payment_failed": _payment(PaymentFailed),
    "charge.refunded": _refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}
