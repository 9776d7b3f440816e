"""model_from reads plain attributes itself; it must give what the deserializer gave."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.adapters.dynamo_base import from_item, model_from, to_item
from chalicelib.adapters.dynamo_tx import donation_values
from chalicelib.domain.donation import Donation
from chalicelib.domain.records import field_names
from tests.unit.factories import donation


def test_a_stored_gift_reads_back_the_same_as_through_the_deserializer() -> None:
    gift = donation(fee=103, net=2397, anonymous=True, campaign="spring", refunded=0, covered_fee=0)
    item = to_item(donation_values(gift))
    item["tribute_name"] = {"NULL": True}
    before = Donation(
        **{
            k: int(v) if isinstance(v, Decimal) else v
            for k, v in from_item(item).items()
            if k in field_names(Donation)
        }
    )
    assert model_from(Donation, item) == before == gift.model_copy(update={"tribute_name": None})


def test_a_number_with_a_fraction_is_cut_to_an_int_as_before() -> None:
    item = {**to_item(donation_values(donation())), "amount": {"N": "2500.0"}}
    assert model_from(Donation, item).amount == 2500
