"""The gift state machine and the request model, without I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.donation import DonationRules
from chalicelib.domain.gift_requests import DonationRequest
from chalicelib.domain.ids import is_id, new_id
from tests.unit.factories import donation

RULES = DonationRules(currencies=("usd",), min_amount=100, max_amount=10_000_000, fund_ids=("general",))
BASE = donation()


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
