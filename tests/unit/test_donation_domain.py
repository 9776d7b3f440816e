"""The gift state machine and the request model, without I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.donation import (
    Donation,
    DonationRequest,
    DonationRules,
    PaymentUpdate,
    apply_update,
)
from chalicelib.domain.ids import is_id, new_id
from tests.unit.factories import donation

RULES = DonationRules(currencies=("usd",), min_amount=100, max_amount=10_000_000, fund_ids=("general",))
BASE = donation()

FACTS = [
    PaymentUpdate(status="succeeded", payment_intent_id="pi_1", charge_id="ch_1", fee=175, net=4825),
    PaymentUpdate(status="failed", payment_intent_id="pi_1", failure_reason="declined"),
    PaymentUpdate(status="partially_refunded", charge_id="ch_1", amount_refunded=1000),
    PaymentUpdate(status="refunded", charge_id="ch_1", amount_refunded=5000),
    PaymentUpdate(status="disputed", dispute_status="open"),
    PaymentUpdate(status="disputed", dispute_status="lost"),
]


def _replay(facts: list[PaymentUpdate]) -> Donation:
    donation = BASE
    for fact in facts:
        donation = apply_update(donation, fact, "2026-11-27T00:00:01.000Z")
    return donation


@given(st.lists(st.sampled_from(FACTS), min_size=1, max_size=12), st.randoms())
def test_any_order_and_any_repetition_ends_in_the_same_state(facts: list[PaymentUpdate], rnd) -> None:
    shuffled = list(facts) * 2
    rnd.shuffle(shuffled)
    ordered, replayed = _replay(facts), _replay(shuffled)
    fields = ("status", "charge_id", "fee", "net", "amount_refunded", "dispute_status", "payment_intent_id")
    assert {f: getattr(ordered, f) for f in fields} == {f: getattr(replayed, f) for f in fields}


def test_states_only_move_forward() -> None:
    refunded = _replay([FACTS[0], FACTS[3]])
    assert refunded.status == "refunded"
    assert _replay([FACTS[3], FACTS[0]]).status == "refunded"
    assert apply_update(refunded, FACTS[0], "later") is refunded


def test_no_change_returns_the_same_object() -> None:
    done = _replay([FACTS[0]])
    assert apply_update(done, FACTS[0], "2026-11-27T00:00:02.000Z") is done


def test_ids_sort_by_time_and_look_like_ids() -> None:
    first, second = new_id(1_000), new_id(2_000)
    assert first < second and is_id(first) and is_id(second)
    assert not is_id("01ARZ3NDEKTSV4RRFFQ69G5FA!")


VALID = {
    "amount": 2500,
    "currency": "usd",
    "email": "a@example.org",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "fund": "general",
    "form_token": "1700000000000.checked-by-the-service",
}


@given(st.integers())
def test_amount_outside_the_configured_range_is_refused(amount: int) -> None:
    body = {**VALID, "amount": amount}
    if RULES.min_amount <= amount <= RULES.max_amount:
        assert DonationRequest.model_validate(body, context={"rules": RULES}).amount == amount
    else:
        with pytest.raises(ValidationError) as caught:
            DonationRequest.model_validate(body, context={"rules": RULES})
        assert caught.value.errors()[0]["loc"] == ("amount",)


@given(st.text(max_size=120))
def test_names_never_carry_control_characters(name: str) -> None:
    try:
        parsed = DonationRequest.model_validate({**VALID, "first_name": name}, context={"rules": RULES})
    except ValidationError:
        return
    assert not any(ord(c) < 32 or ord(c) == 127 for c in parsed.first_name)
    assert 1 <= len(parsed.first_name) <= 100
