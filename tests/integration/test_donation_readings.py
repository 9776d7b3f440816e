"""A gift's body is read one of two ways (chalicelib/domain/donation_forms.py, or the pydantic
model when the plain reading is unsure): a retried POST /donations with the same
Idempotency-Key is the same request whichever way each attempt was read, and a different body
is refused either way. Against DynamoDB Local and localstripe."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.helpers import GIFT, Api

TRIBUTE = {"kind": "memory", "name": "Grace Hopper", "notify_email": "Ann@Example.org"}


def _bodies() -> tuple[dict[str, Any], dict[str, Any]]:
    """One gift, twice: as the plain reading takes it, and with spaces that only the model
    strips (an ideographic and an em space), so that the model reads it, to the same values."""
    plain = {**GIFT, "first_name": "Zoë", "campaign": "Été", "tribute": TRIBUTE, "cover_fee": True}
    model = {**plain, "first_name": "Zoë\u3000", "tribute": {**TRIBUTE, "name": "\u2003Grace Hopper"}}
    return plain, model


def test_the_two_bodies_are_read_two_ways() -> None:
    from chalicelib.bootstrap import get_settings
    from chalicelib.domain import donation_forms as forms

    rules = get_settings().donation_rules
    plain, model = _bodies()
    taken = forms.read_donation(json.dumps(plain).encode(), rules)
    with pytest.raises(forms.Unsure):
        forms.read_donation(json.dumps(model).encode(), rules)
    assert taken.first_name == "Zoë" and taken.tribute is not None


@pytest.mark.parametrize("order", ["plain first", "model first"])
def test_a_retry_read_the_other_way_is_the_same_request(api: Api, order: str) -> None:
    plain, model = _bodies()
    first, second = (plain, model) if order == "plain first" else (model, plain)
    headers = {"Idempotency-Key": f"readings-{uuid.uuid4().hex}"}
    created = api.post("/donations", first, headers)
    again = api.post("/donations", second, headers)
    assert (created.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == created.json()
    for body in (plain, model):
        other = api.post("/donations", {**body, "amount": body["amount"] + 100}, headers)
        assert other.status_code == 422, other.text
        assert other.json()["error"]["fields"][0]["field"] == "Idempotency-Key"
        unnamed = api.post("/donations", {**body, "tribute": {**TRIBUTE, "notify_email": None}}, headers)
        assert unnamed.status_code == 422 and unnamed.json()["error"]["code"] == "idempotency_key_reused"
