"""The merge of payment facts into a gift, and the totals refunds and disputes derive: every
field fits the state it ends in, whatever the order and however often a fact comes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import get_args, get_type_hints

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.aftermath import Dispute, Refund, check_refund, merge_dispute, merge_refund, summarize
from chalicelib.domain.donation import Donation, DonationRules, PaymentUpdate, apply_settlement, apply_update
from chalicelib.domain.errors import ConflictError
from tests.unit.factories import donation

BASE = donation(amount=5000)
NOW = "2026-11-27T00:00:01.000Z"
SUCCEEDED = PaymentUpdate(status="succeeded", payment_intent_id="pi_1", charge_id="ch_1")
FAILED = PaymentUpdate(status="failed", payment_intent_id="pi_1", failure_reason="Your card was declined.")
DECLINED_CHARGE = replace(FAILED, charge_id="ch_0")  # a card declined before another paid
FACTS = [
    SUCCEEDED,
    FAILED,
    PaymentUpdate(payment_intent_id="pi_1"),
    PaymentUpdate(status="abandoned"),
    DECLINED_CHARGE,
]


def _replay(facts: list[PaymentUpdate], start: Donation = BASE) -> Donation:
    current = start
    for fact in facts:
        current = apply_update(current, fact, NOW)
    return current


def test_the_lifecycle_is_pending_then_succeeded_failed_or_abandoned() -> None:
    assert set(get_args(get_type_hints(Donation)["status"])) == {
        "pending",
        "succeeded",
        "failed",
        "abandoned",
    }


def test_a_late_failure_on_a_paid_gift_changes_nothing() -> None:
    paid = _replay([SUCCEEDED])
    assert apply_update(paid, FAILED, NOW) is paid
    assert paid.failure_reason is None


def test_success_after_a_failure_clears_the_reason_and_numbers_the_receipt() -> None:
    paid = _replay([FAILED, SUCCEEDED])
    assert paid.status == "succeeded" and paid.failure_reason is None
    assert paid.receipt_number == f"2026-{paid.id}"


def test_the_charge_recorded_is_the_one_that_paid_not_a_declined_one() -> None:
    assert _replay([DECLINED_CHARGE]).charge_id is None
    assert _replay([DECLINED_CHARGE, SUCCEEDED]).charge_id == "ch_1"


def test_a_late_success_on_an_abandoned_gift_records_the_money() -> None:
    paid = _replay([PaymentUpdate(status="abandoned"), SUCCEEDED])
    assert paid.status == "succeeded" and paid.succeeded_at == NOW and paid.charge_id == "ch_1"
    assert _replay([SUCCEEDED, PaymentUpdate(status="abandoned")]).status == "succeeded"
    assert _replay([PaymentUpdate(status="abandoned"), FAILED]).status == "failed"


def test_fee_and_net_follow_the_balance_transaction_when_it_changes() -> None:
    paid = _replay([SUCCEEDED])
    settled = apply_settlement(paid, 175, 4825, "usd", NOW)
    assert (settled.fee, settled.net, settled.settlement_currency) == (175, 4825, "usd")
    assert apply_settlement(settled, 175, 4825, "usd", NOW) is settled
    changed = apply_settlement(settled, 160, 4840, "usd", NOW)
    assert (changed.fee, changed.net) == (160, 4840)
    converted = apply_settlement(paid, 300, 4100, "eur", NOW)
    assert converted.net_after_refunds is None  # another currency: not subtracted blindly


FIELDS = ("status", "payment_intent_id", "charge_id", "failure_reason", "succeeded_at", "receipt_number")


@given(st.lists(st.sampled_from(FACTS), min_size=1, max_size=12), st.randoms())
def test_any_order_and_repetition_ends_in_one_consistent_record(facts: list[PaymentUpdate], rnd) -> None:
    shuffled = list(facts) * 2
    rnd.shuffle(shuffled)
    ordered, replayed = _replay(facts), _replay(shuffled)
    assert {f: getattr(ordered, f) for f in FIELDS} == {f: getattr(replayed, f) for f in FIELDS}
    for gift in (ordered, replayed):
        assert (gift.failure_reason is not None) == (gift.status == "failed")
        assert (gift.succeeded_at is not None) == (gift.status == "succeeded")
        assert (gift.receipt_number is not None) == (gift.status == "succeeded")


def _refund(refund_id: str, amount: int, status: str = "succeeded") -> Refund:
    return Refund(
        id=refund_id,
        donation_id=BASE.id,
        amount=amount,
        currency="usd",
        reason="requested_by_customer",
        actor="finance-1",
        status=status,  # type: ignore[arg-type]
        created_at=NOW,
        updated_at=NOW,
    )


def _dispute(dispute_id: str, status: str) -> Dispute:
    return Dispute(
        id=dispute_id,
        donation_id=BASE.id,
        amount=5000,
        currency="usd",
        reason="fraudulent",
        status=status,  # type: ignore[arg-type]
        created_at=NOW,
        updated_at=NOW,
    )


def test_display_status_from_refunds_and_disputes() -> None:
    paid = _replay([SUCCEEDED])
    assert summarize(paid, [], []).display_status == "succeeded"
    partial = summarize(paid, [_refund("r1", 1000)], [])
    assert partial.display_status == "partially_refunded" and partial.refunded == 1000
    full = summarize(paid, [_refund("r1", 1000), _refund("r2", 4000)], [])
    assert full.display_status == "refunded"
    assert summarize(paid, [_refund("r1", 1000, "failed")], []).display_status == "succeeded"
    disputed = summarize(paid, [_refund("r1", 1000)], [_dispute("dp_1", "open")])
    assert disputed.display_status == "disputed"  # a dispute outranks a refund while open
    assert summarize(paid, [], [_dispute("dp_1", "won")]).display_status == "succeeded"  # won: not disputed
    assert summarize(paid, [], [_dispute("dp_1", "lost")]).display_status == "dispute_lost"
    assert summarize(_replay([FAILED]), [], []).display_status == "failed"


def test_a_refund_can_never_take_more_than_is_left() -> None:
    paid = _replay([SUCCEEDED])
    assert check_refund(paid, [], None) == 5000
    assert check_refund(paid, [_refund("r1", 1000, "requested")], None) == 4000
    with pytest.raises(ConflictError):
        check_refund(paid, [_refund("r1", 1000, "pending")], 4001)
    assert check_refund(paid, [_refund("r1", 5000, "failed")], None) == 5000  # failed gave it back
    with pytest.raises(ConflictError):
        check_refund(_replay([FAILED]), [], None)


STATES = ["requested", "pending", "succeeded", "failed", "canceled"]


@given(st.lists(st.sampled_from(STATES), min_size=1, max_size=8), st.randoms())
def test_a_refunds_status_only_moves_forward_in_any_order(states: list[str], rnd) -> None:
    def replay(order: list[str]) -> str:
        current = None
        for state in order:
            current = merge_refund(current, _refund("r1", 100, state)) or current
        assert current is not None
        return current.status

    shuffled = list(states)
    rnd.shuffle(shuffled)
    final = {replay(states), replay(shuffled)}
    assert len(final) == 1 or final <= {"failed", "canceled"}


def test_a_closed_dispute_stays_closed() -> None:
    won = merge_dispute(None, _dispute("dp_1", "won"))
    assert won is not None
    assert merge_dispute(won, _dispute("dp_1", "open")) is None
    assert (
        merge_dispute(merge_dispute(None, _dispute("dp_1", "open")), _dispute("dp_1", "lost")).status
        == "lost"
    )  # type: ignore[union-attr]


def test_covering_the_fee_raises_the_total_by_the_formula() -> None:
    rules = DonationRules(("usd",), 100, 10_000_000, ("general",), fee_percent=Decimal("2.2"), fee_fixed=30)
    covered = rules.covered_fee(5000)
    total = 5000 + covered
    assert total - (total * Decimal("0.022") + 30) >= 5000  # the gift arrives whole
    assert total - 1 - ((total - 1) * Decimal("0.022") + 30) < 5000  # and no cent more than needed
