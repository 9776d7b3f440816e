"""The business events of a committed gift change: the payment succeeded or failed, a refund
was created and then succeeded or failed, a dispute opened or closed. Told once, after the
conditional write that decided them commits, so a replayed webhook (which commits nothing)
tells nothing again."""

from __future__ import annotations

from chalicelib.domain.aftermath import Dispute, Refund
from chalicelib.services.ports import GiftRecord

Fields = dict[str, str | int | None]
Event = tuple[str, str, Fields]
ENDED = {"succeeded": "gift_succeeded", "failed": "gift_failed"}
REFUND_ENDED = {"succeeded": "refund_succeeded", "failed": "refund_failed"}
CLOSED = ("won", "lost")


def gift_events(
    before: GiftRecord,
    after: GiftRecord,
    refunds: tuple[Refund, ...],
    disputes: tuple[Dispute, ...],
    source: str,
) -> list[Event]:
    """What this change decided, with safe ids only (message, fields) per event."""
    gift = after.donation
    ids: Fields = {
        "donation_id": gift.id,
        "recurring_id": gift.recurring_id,
        "source": source,
    }
    events: list[Event] = []
    if gift.status != before.donation.status and gift.status in ENDED:
        money: Fields = {"amount": gift.amount, "currency": gift.currency}
        events.append((ENDED[gift.status], f"gift {gift.status}", {**ids, **money}))
    old_refunds = {r.id: r for r in before.refunds}
    for refund in refunds:
        old = old_refunds.get(refund.id)
        fields: Fields = {**ids, "refund_id": refund.id, "amount": refund.amount, "currency": refund.currency}
        if old is None:
            events.append(("refund_created", "refund created", {**fields, "status": refund.status}))
        if refund.status in REFUND_ENDED and (old is None or old.status != refund.status):
            events.append((REFUND_ENDED[refund.status], f"refund {refund.status}", fields))
    old_disputes = {d.id: d for d in before.disputes}
    for dispute in disputes:
        was = old_disputes.get(dispute.id)
        told: Fields = {
            **ids,
            "dispute_id": dispute.id,
            "amount": dispute.amount,
            "currency": dispute.currency,
        }
        if was is None:
            events.append(("dispute_opened", "dispute opened", told))
        if dispute.status in CLOSED and (was is None or was.status not in CLOSED):
            events.append(
                ("dispute_closed", f"dispute {dispute.status}", {**told, "outcome": dispute.status})
            )
    return events


def tell(
    before: GiftRecord,
    after: GiftRecord,
    refunds: tuple[Refund, ...],
    disputes: tuple[Dispute, ...],
    source: str,
) -> None:
    from chalicelib.metrics import business_event

    for event, message, fields in gift_events(before, after, refunds, disputes, source):
        business_event(event, message, **fields)
