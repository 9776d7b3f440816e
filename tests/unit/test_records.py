"""Plain stored records (chalicelib/domain/records.py): each field checked against its
annotation when made and when changed, so an item stored in another shape is refused where it
is read; and the little of the models' interface the repositories use."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.dynamo_base import model_from, to_item
from chalicelib.adapters.dynamo_tx import donation_values, plan_values
from chalicelib.domain.donation import Donation
from chalicelib.domain.recurring import RecurringPlan, plan_for
from tests.unit.factories import donation


@pytest.mark.parametrize(
    "change",
    [
        {"amount": {"S": "2500"}},  # int
        {"amount": {"BOOL": True}},  # int, not a bool
        {"anonymous": {"N": "1"}},  # bool
        {"status": {"S": "paid"}},  # Literal
        {"dispute": {"S": "maybe"}},  # Literal | None
        {"fee": {"S": "103"}},  # int | None
        {"campaign": {"N": "5"}},  # str | None
        {"tribute_kind": {"S": "thanks"}},  # Literal[...] | None
        {"first_name": {"NULL": True}},  # str
    ],
)
def test_a_stored_gift_of_another_shape_is_refused_where_it_is_read(change: dict[str, Any]) -> None:
    gift = donation(fee=103, campaign="spring", tribute_kind="honor")
    item = to_item(donation_values(gift))
    assert model_from(Donation, item) == gift
    with pytest.raises(TypeError):
        model_from(Donation, {**item, **change})


def test_a_change_is_checked_as_the_record_was() -> None:
    gift = donation()
    assert gift.model_copy(update={"status": "succeeded"}).status == "succeeded"
    for wrong in ({"status": "paid"}, {"amount": "2500"}, {"refunded": None}):
        with pytest.raises(TypeError):
            gift.model_copy(update=wrong)
    with pytest.raises(TypeError):
        gift.model_copy(update={"colour": "red"})  # no such field


def test_a_gift_is_stored_with_what_it_derives_and_reads_back_without_it() -> None:
    gift = donation(status="succeeded", amount=5000, refunded=5000, premium_value=1500, net=4800, fee=200)
    values = donation_values(gift)
    assert (values["display_status"], values["net_after_refunds"], values["deductible_amount"]) == (
        "refunded",
        -200,
        3500,
    )
    assert model_from(Donation, to_item(values)) == gift


def test_a_plan_reads_back_as_stored() -> None:
    plan = plan_for(donation(frequency="monthly"), "cus_1")
    assert model_from(RecurringPlan, to_item(plan_values(plan))) == plan
    with pytest.raises(TypeError):
        model_from(RecurringPlan, {**to_item(plan_values(plan)), "frequency": {"S": "one_time"}})


def test_the_api_document_describes_records_by_their_docstring_never_their_signature() -> None:
    from chalicelib.api.openapi import document

    schemas = document()["components"]["schemas"]
    described = {name: s.get("description", "") for name, s in schemas.items()}
    assert not [name for name, text in described.items() if text.startswith(f"{name}(")]
    assert described["RecurringPlan"].startswith("A monthly or annual gift")


def test_a_refused_item_is_named_in_the_log_by_its_key_and_field_never_its_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gift = donation(email="private@example.org")
    item = {**to_item(donation_values(gift)), "pk": {"S": f"DONATION#{gift.id}"}, "anonymous": {"N": "1"}}
    with caplog.at_level("WARNING", logger="steward"), pytest.raises(TypeError):
        model_from(Donation, item)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert f"DONATION#{gift.id}" in logged and "Donation.anonymous" in logged
    assert "private@example.org" not in logged
