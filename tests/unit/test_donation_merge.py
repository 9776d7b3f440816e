"""The merge of Stripe facts into a gift: every field fits the state it ends in."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.donation import PAID_STATUSES, Donation, PaymentUpdate, apply_update
from tests.unit.factories import donation

BASE = donation(amount=5000)
NOW = "2026-11-27T00:00:01.000Z"
SUCCEEDED = PaymentUpdate(status="succeeded", payment_intent_id="pi_1", charge_id="ch_1", fee=175, net=4825)
FAILED = PaymentUpdate(status="failed", payment_intent_id="pi_1", failure_reason="Your card was declined.")
DECLINED_CHARGE = replace(FAILED, charge_id="ch_0")  # a card declined before another paid
FACTS = [
    SUCCEEDED,
    FAILED,
    PaymentUpdate(status="partially_refunded", charge_id="ch_1", amount_refunded=1000),
    PaymentUpdate(status="refunded", charge_id="ch_1", amount_refunded=5000),
    PaymentUpdate(status="disputed", dispute_status="open"),
    PaymentUpdate(status="disputed", dispute_status="lost"),
    PaymentUpdate(payment_intent_id="pi_1"),
    PaymentUpdate(status="abandoned"),
    DECLINED_CHARGE,
]


def _replay(facts: list[PaymentUpdate], start: Donation = BASE) -> Donation:
    current = start
    for fact in facts:
        current = apply_update(current, fact, NOW)
    return current


def test_a_late_failure_on_a_paid_gift_changes_nothing() -> None:
    paid = _replay([SUCCEEDED])
    assert apply_update(paid, FAILED, NOW) is paid
    assert paid.failure_reason is None


def test_success_after_a_failure_clears_the_reason() -> None:
    paid = _replay([FAILED, SUCCEEDED])
    assert paid.status == "succeeded" and paid.failure_reason is None


def test_the_charge_recorded_is_the_one_that_paid_not_a_declined_one() -> None:
    declined = DECLINED_CHARGE
    assert _replay([declined]).charge_id is None
    assert _replay([declined, SUCCEEDED]).charge_id == "ch_1"
    assert (
        _replay([PaymentUpdate(status="disputed", dispute_status="open"), declined, SUCCEEDED]).charge_id
        == "ch_1"
    )


def test_a_refund_before_the_success_still_dates_the_payment() -> None:
    refunded = _replay([FACTS[3]])
    assert refunded.status == "refunded" and refunded.succeeded_at == NOW


def test_a_late_success_on_an_abandoned_gift_records_the_money() -> None:
    paid = _replay([PaymentUpdate(status="abandoned"), SUCCEEDED])
    assert paid.status == "succeeded" and paid.succeeded_at == NOW and paid.charge_id == "ch_1"
    assert _replay([SUCCEEDED, PaymentUpdate(status="abandoned")]).status == "succeeded"
    assert _replay([PaymentUpdate(status="abandoned"), FAILED]).status == "failed"


def _consistent(gift: Donation) -> None:
    assert (gift.failure_reason is not None) == (gift.status == "failed")
    assert (gift.succeeded_at is not None) == (gift.status in PAID_STATUSES)
    if gift.status in ("refunded", "partially_refunded"):
        assert gift.amount_refunded > 0
    if gift.status == "disputed":
        assert gift.dispute_status is not None


FIELDS = (
    "status",
    "payment_intent_id",
    "charge_id",
    "fee",
    "net",
    "amount_refunded",
    "failure_reason",
    "dispute_status",
    "succeeded_at",
)


@given(st.lists(st.sampled_from(FACTS), min_size=1, max_size=12), st.randoms())
def test_any_order_and_repetition_ends_in_one_consistent_record(facts: list[PaymentUpdate], rnd) -> None:
    shuffled = list(facts) * 2
    rnd.shuffle(shuffled)
    ordered, replayed = _replay(facts), _replay(shuffled)
    assert {f: getattr(ordered, f) for f in FIELDS} == {f: getattr(replayed, f) for f in FIELDS}
    _consistent(ordered)
    _consistent(replayed)
