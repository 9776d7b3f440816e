"""The sweep finds its candidates with bounded Queries on the sparse pending index, one per
shard of it (keys.pending_donations), never a Scan; the earliest created come first."""

from __future__ import annotations

from collections import Counter

import boto3
from botocore.stub import Stubber

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import DynamoRepository, to_item
from chalicelib.domain.donation import PaymentUpdate, apply_update
from tests.unit.factories import donation

BEFORE = "2026-11-27T00:00:00.000Z"


def test_pending_gifts_come_from_one_bounded_query_per_shard_merged_by_creation() -> None:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    repo = DynamoRepository("steward", client)
    older = donation(created_at="2026-11-25T00:00:00.000Z")
    newer = donation(created_at="2026-11-26T00:00:00.000Z")
    partitions = keys.pending_partitions(False)
    assert len(partitions) == keys.PENDING_SHARDS + 1 and partitions[-1] == "PENDING#NOSETUP"

    def item(gift: object) -> dict[str, object]:
        values = {**gift.model_dump(), "pk": f"DONATION#{gift.id}", "sk": "DONATION"}  # type: ignore[attr-defined]
        return to_item({**values, "gsi2sk": f"{values['created_at']}#{values['id']}"})

    with Stubber(client) as stubber:
        for n, partition in enumerate(partitions):
            found = {0: [item(newer)], len(partitions) - 1: [item(older)]}.get(n, [])
            stubber.add_response(
                "query",
                {"Items": found},
                {
                    "TableName": "steward",
                    "IndexName": "gsi2",
                    "KeyConditionExpression": "gsi2pk = :pending AND gsi2sk < :before",
                    "ExpressionAttributeValues": to_item({":pending": partition, ":before": BEFORE}),
                    "Limit": 25,
                },
            )
        found = repo.pending_donations(False, BEFORE, 25)
        stubber.assert_no_pending_responses()
    assert [d.id for d in found] == [older.id, newer.id]


def test_a_settled_gift_leaves_the_pending_index_and_a_pending_one_keeps_its_shard() -> None:
    repo = DynamoRepository("steward", None)
    pending = donation()
    shard = int(keys.pending_donations(False, pending.id).rsplit("#", 1)[1])
    assert repo._donation_put(pending)["Item"]["gsi2pk"] == {"S": f"PENDING#NOSETUP#{shard:02d}"}
    with_setup = pending.model_copy(update={"setup_intent_id": "seti_1"})
    assert repo._donation_put(with_setup)["Item"]["gsi2pk"] == {"S": f"PENDING#SETUP#{shard:02d}"}
    for fact in ("succeeded", "failed", "abandoned"):
        settled = apply_update(pending, PaymentUpdate(status=fact, failure_reason="x"), "later")  # type: ignore[arg-type]
        assert "gsi2pk" not in repo._donation_put(settled)["Item"]


def test_pending_gifts_spread_over_every_shard() -> None:
    spread = Counter(keys.pending_donations(True, donation().id) for _ in range(1600))
    assert set(spread) == set(keys.pending_partitions(True)[:-1])
    assert max(spread.values()) < 2 * min(spread.values())
