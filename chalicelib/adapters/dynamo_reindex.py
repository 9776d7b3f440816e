"""Gives gifts written before the finding indexes existed, or before their month keys were
sharded, their index keys as the unit of work writes them now: a gsi1 Query per shard of
each creation month and the key from before sharding, and each gift whose keys differ gets
them with an UpdateItem conditional on the version read (a gift that changed meanwhile was
written whole, keys included)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo_base import conditional_update, guarded, model_from, to_item, translate
from chalicelib.adapters.dynamo_tx import index_keys
from chalicelib.domain.donation import Donation


@dataclass
class Reindexed:
    gifts: int = 0
    updated: int = 0


def reindex_month(client: Any, table: str, month: str, run: Reindexed) -> None:
    for partition in keys.find_partitions(keys.donations_by_month(month)):
        _reindex_partition(client, table, partition, run)


def _reindex_partition(client: Any, table: str, partition: str, run: Reindexed) -> None:
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :month",
        "ExpressionAttributeValues": to_item({":month": partition}),
    }
    while True:
        try:
            response = guarded(client.query, **query)
        except ClientError as exc:
            raise translate(exc) from exc
        for item in response.get("Items", []):
            run.gifts += 1
            if _give_keys(client, table, item):
                run.updated += 1
        if "LastEvaluatedKey" not in response:
            return
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _give_keys(client: Any, table: str, item: dict[str, Any]) -> bool:
    gift = model_from(Donation, item)
    wanted = index_keys(gift)
    if all(item.get(name) == {"S": value} for name, value in wanted.items()):
        return False
    names = {f"#k{n}": name for n, name in enumerate(wanted)}
    values = {f":k{n}": value for n, value in enumerate(wanted.values())}
    return conditional_update(
        client,
        TableName=table,
        Key=to_item(keys.donation(gift.id)),
        UpdateExpression="SET " + ", ".join(f"#k{n} = :k{n}" for n in range(len(wanted))),
        ConditionExpression="#version = :version",
        ExpressionAttributeNames={**names, "#version": "version"},
        ExpressionAttributeValues=to_item({**values, ":version": gift.version}),
    )
