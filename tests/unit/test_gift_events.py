"""The business events a committed gift change tells (chalicelib/services/gift_events.py)."""

from __future__ import annotations

from chalicelib.domain.aftermath import Dispute, Refund
from chalicelib.services.gift_events import gift_events
from chalicelib.services.ports import GiftRecord
from tests.unit.factories import donation

AT = "2026-11-27T00:00:00.000Z"


def _refund(status: str) -> Refund:
    return Refund(
        **{
            "id": "r1",
            "donation_id": "d1",
            "amount": 1000,
            "currency": "usd",
            "reason": "duplicate",
            "actor": "staff",
            "status": status,
            "created_at": AT,
            "updated_at": AT,
        }
    )


def _dispute(status: str) -> Dispute:
    return Dispute(
        **{
            "id": "du_1",
            "donation_id": "d1",
            "amount": 5000,
            "currency": "usd",
            "reason": "fraudulent",
            "status": status,
            "created_at": AT,
            "updated_at": AT,
        }
    )


def _names(events: list[tuple[str, str, dict[str, str | int | None]]]) -> list[str]:
    return [name for name, _, _ in events]


def test_a_payment_that_ends_tells_once_with_ids_and_money_only() -> None:
    pending, paid = donation(id="d1"), donation(id="d1", status="succeeded")
    [(name, _, fields)] = gift_events(GiftRecord(pending, [], []), GiftRecord(paid, [], []), (), (), "api")
    assert name == "gift_succeeded"
    assert fields == {
        "donation_id": "d1",
        "recurring_id": None,
        "source": "api",
        "amount": 5000,
        "currency": "usd",
    }
    again = gift_events(
        GiftRecord(paid, [], []), GiftRecord(paid, [], []), (), (), "payment_intent.succeeded"
    )
    assert again == []  # the webhook confirming what the confirm recorded tells nothing
    failed = donation(id="d1", status="failed", failure_reason="Your card was declined.")
    assert _names(
        gift_events(GiftRecord(pending, [], []), GiftRecord(failed, [], []), (), (), "confirm")
    ) == ["gift_failed"]


def test_a_refund_is_created_then_succeeds_or_fails_once() -> None:
    paid = donation(id="d1", status="succeeded")
    requested, succeeded = _refund("requested"), _refund("succeeded")
    before, reserved = GiftRecord(paid, [], []), GiftRecord(paid, [requested], [])
    assert _names(gift_events(before, reserved, (requested,), (), "staff")) == ["refund_created"]
    done = GiftRecord(paid, [succeeded], [])
    assert _names(gift_events(reserved, done, (succeeded,), (), "staff")) == ["refund_succeeded"]
    assert _names(gift_events(done, done, (succeeded,), (), "refund.updated")) == []
    # made at Stripe's dashboard: created and succeeded in one change
    assert _names(gift_events(before, done, (succeeded,), (), "refund.created")) == [
        "refund_created",
        "refund_succeeded",
    ]
    failed = _refund("failed")
    assert _names(gift_events(done, GiftRecord(paid, [failed], []), (failed,), (), "refund.updated")) == [
        "refund_failed"
    ]


def test_a_dispute_opens_once_and_closes_once_with_its_outcome() -> None:
    paid = donation(id="d1", status="succeeded")
    opened, won = _dispute("open"), _dispute("won")
    before, open_ = GiftRecord(paid, [], []), GiftRecord(paid, [], [opened])
    assert _names(gift_events(before, open_, (), (opened,), "charge.dispute.created")) == ["dispute_opened"]
    [(name, message, fields)] = gift_events(
        open_, GiftRecord(paid, [], [won]), (), (won,), "charge.dispute.closed"
    )
    assert (name, message, fields["outcome"]) == ("dispute_closed", "dispute won", "won")
    # reported closed first: opened and closed at once
    lost = _dispute("lost")
    assert _names(
        gift_events(before, GiftRecord(paid, [], [lost]), (), (lost,), "charge.dispute.closed")
    ) == [
        "dispute_opened",
        "dispute_closed",
    ]
