"""Write-sharded GSI1 partitions: a queue too hot for one partition key is spread over
several keys (keys.outbox_pending), and read with one Query per key.

A staff list pages through the keys in order (its cursor holds the key's position and
DynamoDB's LastEvaluatedKey), so it is sorted within each key, not across them; a sweep takes
the first items of every key and merges them by sort key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import cursors, keys
from chalicelib.adapters.dynamo_base import GSI1, guarded, model_from, to_item, translate, translate_list
from chalicelib.services.outreach_ports import Page


def query_shards(
    client: Any,
    table: str,
    partitions: list[str],
    limit: int,
    cursor: str | None,
    model: Any,
    record: Callable[[str], keys.Key],
) -> Page:
    """Up to `limit` items of the partitions, one after the other, oldest first in each."""
    scope = {"index": partitions[0], "shards": str(len(partitions))}
    shard, start = 0, None
    if cursor:
        data = cursors.decode(cursor, scope)
        shard = data.get("s")  # type: ignore[assignment]
        if not (type(shard) is int and 0 <= shard < len(partitions)):
            raise cursors.bad_cursor()
        if data.get("k") is not None:
            start = cursors.start_key(data["k"], partitions[shard], record)
    items: list[Any] = []
    while shard < len(partitions) and len(items) < limit:
        query: dict[str, Any] = {
            "TableName": table,
            "IndexName": GSI1,
            "Limit": limit - len(items),
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": partitions[shard]}),
        }
        if start:
            query["ExclusiveStartKey"] = start
        try:
            response = guarded(client.query, **query)
        except ClientError as exc:
            raise translate_list(exc, cursor) from exc
        items.extend(model_from(model, item) for item in response.get("Items", []))
        start = response.get("LastEvaluatedKey")
        if start is None:
            shard += 1
    if shard >= len(partitions):
        return Page(items, None)
    return Page(items, cursors.encode(scope, s=shard, k=start))


def first_before(client: Any, table: str, partitions: list[str], before: str, limit: int) -> list[str]:
    """The ids of the first `limit` items by sort key (`<time>#<id>`) before `before`, across
    the partitions: one Query of at most `limit` items per partition, merged."""
    found: list[tuple[str, str]] = []
    for partition in partitions:
        try:
            response = guarded(
                client.query,
                TableName=table,
                IndexName=GSI1,
                Limit=limit,
                KeyConditionExpression="gsi1pk = :queue AND gsi1sk < :before",
                ExpressionAttributeValues=to_item({":queue": partition, ":before": before}),
            )
        except ClientError as exc:
            raise translate(exc) from exc
        found.extend(
            (str(item["gsi1sk"]["S"]), str(item["pk"]["S"]).partition("#")[2])
            for item in response.get("Items", [])
        )
    return [item_id for _, item_id in sorted(found)[:limit]]
