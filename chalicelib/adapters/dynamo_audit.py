"""The log of staff requests: who read or changed what, with which filter, and when."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import cursors, keys
from chalicelib.adapters.dynamo_base import from_item, guarded, to_item, translate, translate_list
from chalicelib.services.ports import Page, StaffLog, StaffRead

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
QUERIES_PER_PAGE = 13  # a page crosses at most a year of empty months, then ends with a cursor


def _previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


class DynamoStaffLog(StaffLog):
    def __init__(self, table_name: str, boto3_client: Any) -> None:
        self.table, self.client = table_name, boto3_client

    def record(self, read: StaffRead) -> None:
        values = {
            **asdict(read),
            **keys.staff_log(read.at, read.id),
            "entity": "staff_read",
            "params": json.dumps(read.params, sort_keys=True),
            "query": json.dumps(read.query, sort_keys=True),
        }
        try:
            guarded(
                self.client.put_item,
                TableName=self.table,
                Item=to_item(values),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            raise translate(exc) from exc

    def list(self, start: str, end: str, limit: int, cursor: str | None, actor: str | None) -> Page:
        scope = {"list": "staff_log", "from": start, "to": end, "actor": actor or ""}
        month, last_key = end[:7], None
        if cursor:
            data = cursors.decode(cursor, scope)
            month = str(data.get("m"))
            if not (MONTH.fullmatch(month) and start[:7] <= month <= end[:7]):
                raise cursors.bad_cursor()
            if data.get("k") is not None:
                last_key = _start_key(data["k"], f"STAFFLOG#{month}", start, end)
        items: list[StaffRead] = []
        queries = 0
        while month >= start[:7] and len(items) < limit and queries < QUERIES_PER_PAGE:
            queries += 1
            request: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
                "ExpressionAttributeValues": to_item(
                    {":pk": f"STAFFLOG#{month}", ":start": start, ":end": end}
                ),
                "ScanIndexForward": False,
                "Limit": limit - len(items),
            }
            if actor:
                request["FilterExpression"] = "actor = :actor"
                request["ExpressionAttributeValues"][":actor"] = {"S": actor}
            if last_key:
                request["ExclusiveStartKey"] = last_key
            try:
                response = guarded(self.client.query, **request)
            except ClientError as exc:
                raise translate_list(exc, cursor) from exc
            items.extend(_read(item) for item in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if last_key is None:
                month = _previous_month(month)
        if last_key is not None:
            return Page(items, cursors.encode(scope, m=month, k=last_key))
        return Page(items, cursors.encode(scope, m=month, k=None) if month >= start[:7] else None)


def _start_key(key: Any, partition: str, start: str, end: str) -> dict[str, Any]:
    """A cursor's start key, accepted only as this query gives it: this month's partition and
    a time inside the range."""
    if not (
        isinstance(key, dict)
        and set(key) == {"pk", "sk"}
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
        and key["pk"]["S"] == partition
        and start <= key["sk"]["S"] <= end
    ):
        raise cursors.bad_cursor()
    return key


def _read(item: dict[str, Any]) -> StaffRead:
    values = from_item(item)
    return StaffRead(
        id=str(values["id"]),
        at=str(values["at"]),
        actor=str(values["actor"]),
        roles=[str(r) for r in values.get("roles", [])],
        method=str(values["method"]),
        route=str(values["route"]),
        path=str(values["path"]),
        params=json.loads(str(values.get("params", "{}"))),
        query=json.loads(str(values.get("query", "{}"))),
        body=str(values["body"]) if values.get("body") is not None else None,
    )
