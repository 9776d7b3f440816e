"""The throttle the telethon simulation injects (devstack/throttle.py): a per-partition budget
per second, answered the way DynamoDB answers, inside botocore's retry loop."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from devstack.throttle import TABLE, PartitionThrottle, _Body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answered(request: Any, **_: Any) -> AWSResponse:
    """Stands in for DynamoDB when the throttle lets a request through (unit test: no peer)."""
    return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Body(b"{}"))


def client(throttle: PartitionThrottle, attempts: int = 1) -> Any:
    made = boto3.client(
        "dynamodb",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )
    throttle.install(made)
    made.meta.events.register("before-send.dynamodb", answered)
    return made


def put(db: Any, pk: str, **extra: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": "DONATION"}, **{k: {"S": v} for k, v in extra.items()}}
    db.put_item(TableName="t", Item=item)


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


INDEXES = {"gsi1": "gsi1pk", "gsi2": "gsi2pk"}


def test_writes_over_a_partitions_budget_in_one_second_are_refused_until_the_next() -> None:
    clock = Clock()
    throttle = PartitionThrottle(write_units=2, clock=clock, indexes=INDEXES)
    db = client(throttle)
    put(db, "DONATION#a")
    put(db, "DONATION#a")
    with pytest.raises(ClientError) as refused:
        put(db, "DONATION#a")
    assert code(refused) == "ProvisionedThroughputExceededException"
    put(db, "DONATION#b")  # another partition has its own budget
    clock.now += 1
    put(db, "DONATION#a")
    assert throttle.throttled == {(TABLE, "DONATION#a"): 1}


def test_an_index_partition_is_throttled_though_every_item_is_its_own() -> None:
    throttle = PartitionThrottle(write_units=2, clock=Clock(), indexes=INDEXES)
    db = client(throttle)
    put(db, "DONATION#a", gsi1pk="DONATIONS#2026-11")
    put(db, "DONATION#b", gsi1pk="DONATIONS#2026-11")
    with pytest.raises(ClientError):
        put(db, "DONATION#c", gsi1pk="DONATIONS#2026-11")
    put(db, "DONATION#d", gsi1pk="DONATIONS#2026-12")
    assert throttle.throttled == {("gsi1", "DONATIONS#2026-11"): 1}


def test_botocore_retries_a_throttled_request_with_its_own_backoff() -> None:
    throttle = PartitionThrottle(write_units=1, clock=Clock(), indexes=INDEXES)
    db = client(throttle, attempts=3)
    put(db, "DONATION#a")
    with pytest.raises(ClientError) as refused:
        put(db, "DONATION#a")
    assert code(refused) == "ProvisionedThroughputExceededException"
    assert refused.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert throttle.requests == 4 and sum(throttle.throttled.values()) == 3


def test_a_transaction_costs_twice_and_a_refused_one_costs_nothing() -> None:
    throttle = PartitionThrottle(write_units=3, clock=Clock(), indexes=INDEXES)
    db = client(throttle)
    cell = {
        "Update": {
            "TableName": "t",
            "Key": {"pk": {"S": "TOTALS#all#2026"}, "sk": {"S": "2026-11-28"}},
            "UpdateExpression": "ADD #count :one",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    db.transact_write_items(TransactItems=[cell])
    with pytest.raises(ClientError):
        db.transact_write_items(TransactItems=[cell])
    assert throttle.cost("TransactWriteItems", {"TransactItems": [cell]})[0] == {
        (TABLE, "TOTALS#all#2026"): 2
    }


def test_an_update_charges_the_index_partitions_the_item_is_in_and_the_one_it_leaves() -> None:
    throttle = PartitionThrottle(clock=Clock(), indexes=INDEXES)
    db = client(throttle)
    put(db, "OUTBOX#m", gsi1pk="OUTBOX#PENDING")
    claim = {
        "Key": {"pk": {"S": "OUTBOX#m"}, "sk": {"S": "DONATION"}},
        "UpdateExpression": "SET lease = :l",
        "ExpressionAttributeValues": {":l": {"S": "x"}},
    }
    assert throttle.cost("UpdateItem", claim)[0] == {(TABLE, "OUTBOX#m"): 1, ("gsi1", "OUTBOX#PENDING"): 1}
    sent = {
        **claim,
        "UpdateExpression": "SET #status = :l REMOVE gsi1pk, gsi1sk",
        "ExpressionAttributeNames": {"#status": "status"},
    }
    writes, _, learn = throttle.cost("UpdateItem", sent)
    assert writes == {(TABLE, "OUTBOX#m"): 1, ("gsi1", "OUTBOX#PENDING"): 1}
    assert learn == {("OUTBOX#m", "DONATION"): {}}
    moved = {
        **claim,
        "UpdateExpression": "SET #k = :k",
        "ExpressionAttributeNames": {"#k": "gsi2pk"},
        "ExpressionAttributeValues": {":k": {"S": "PENDING#SETUP"}},
    }
    assert throttle.cost("UpdateItem", moved)[0] == {
        (TABLE, "OUTBOX#m"): 1,
        ("gsi1", "OUTBOX#PENDING"): 1,
        ("gsi2", "PENDING#SETUP"): 1,
    }


def test_reads_are_charged_on_the_partition_the_query_names() -> None:
    throttle = PartitionThrottle(read_units=1, clock=Clock(), indexes=INDEXES)
    db = client(throttle)
    query = {
        "TableName": "t",
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk < :before",
        "ExpressionAttributeValues": {":pk": {"S": "OUTBOX#PENDING"}, ":before": {"S": "z"}},
    }
    db.query(**query)
    db.query(**query)
    with pytest.raises(ClientError):
        db.query(**query)
    assert throttle.throttled == {("gsi1", "OUTBOX#PENDING"): 1}
    consistent = {"Key": {"pk": {"S": "A"}}, "ConsistentRead": True}
    assert throttle.cost("GetItem", consistent)[1] == {(TABLE, "A"): 1.0}
