"""The sweep finds its candidates with a bounded Query on the sparse pending index, never a Scan."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from chalicelib.adapters.dynamo import DynamoRepository, to_item
from chalicelib.domain.donation import PaymentUpdate, apply_update
from tests.unit.factories import donation


def test_pending_gifts_come_from_a_bounded_query_on_the_pending_index() -> None:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    repo = DynamoRepository("steward", client)
    gift = donation(created_at="2026-11-26T00:00:00.000Z")
    item = {**gift.model_dump(), "pk": f"DONATION#{gift.id}", "sk": "DONATION"}
    with Stubber(client) as stubber:
        stubber.add_response(
            "query",
            {"Items": [to_item(item)]},
            {
                "TableName": "steward",
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :pending AND gsi2sk < :before",
                "ExpressionAttributeValues": to_item(
                    {":pending": "PENDING#NOSETUP", ":before": "2026-11-27T00:00:00.000Z"}
                ),
                "Limit": 25,
            },
        )
        found = repo.pending_donations(False, "2026-11-27T00:00:00.000Z", 25)
    assert [d.id for d in found] == [gift.id]


def test_a_settled_gift_leaves_the_pending_index() -> None:
    repo = DynamoRepository("steward", None)
    pending = donation()
    assert repo._donation_put(pending)["Item"]["gsi2pk"] == {"S": "PENDING#NOSETUP"}
    with_setup = pending.model_copy(update={"setup_intent_id": "seti_1"})
    assert repo._donation_put(with_setup)["Item"]["gsi2pk"] == {"S": "PENDING#SETUP"}
    for fact in ("succeeded", "failed", "abandoned"):
        settled = apply_update(pending, PaymentUpdate(status=fact, failure_reason="x"), "later")  # type: ignore[arg-type]
        assert "gsi2pk" not in repo._donation_put(settled)["Item"]
