"""DynamoDB's per-partition limits, injected into a boto3 client through botocore's events.

DynamoDB Local never throttles. On AWS one partition key takes at most 1,000 write units and
3,000 read units a second, in the table and in each index (per item too), whatever the table's
mode. `PartitionThrottle` keeps that budget per key and one-second window, and answers
ProvisionedThroughputExceededException (as DynamoDB does) for a request that would go over it,
before the request leaves the process. It hooks `before-send`, inside botocore's retry loop, so
the client's own retries and backoff run exactly as they do against AWS.

What a request costs, as DynamoDB counts it (approximated):
- a write: ceil(item size / 1 KB) units on its table partition, twice that in a transaction;
  one unit on each index partition the item is in (its key attributes), and one more on an
  index partition it leaves (the old entry is deleted). The index keys an item has are learnt
  from the full items Put (Steward writes gifts whole), so an Update of a known item charges
  its index partitions too (every index projects ALL attributes).
- a read: 0.5 unit (eventually consistent) or 1 (strongly consistent) per GetItem, per Query
  on the partition its key condition names, twice for a transactional read.
A throttled request consumes nothing, as on AWS.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

from devstack.table import RESOURCES

TABLE = "table"  # the budget of a base table partition, beside each index's name
THROTTLED = "ProvisionedThroughputExceededException"
ITEM_UNIT = 1024  # bytes in one write unit
Budget = tuple[str, str]  # (index name or TABLE, partition key value)


def index_keys() -> dict[str, str]:
    """Each index of the table (infra/resources.json) and the attribute it is partitioned by."""
    props = json.loads(RESOURCES.read_text())["Resources"]["StewardTable"]["Properties"]
    found: dict[str, str] = {}
    for index in props.get("GlobalSecondaryIndexes", []):
        found[index["IndexName"]] = next(
            k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH"
        )
    return found


def item_size(item: dict[str, Any]) -> int:
    """About what DynamoDB counts: each attribute's name plus its value's bytes."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            size += len(value["N"]) // 2 + 1
        else:
            size += len(json.dumps(value))
    return size


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def throttled_response(url: str, code: str = THROTTLED) -> AWSResponse:
    """The HTTP answer DynamoDB gives a throttled request."""
    body = json.dumps(
        {
            "__type": f"com.amazonaws.dynamodb.v20120810#{code}",
            "message": "The level of configured provisioned throughput for the table was exceeded.",
        }
    ).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "THROTTLED"}
    return AWSResponse(url, 400, headers, _Body(body))


@dataclass
class PartitionThrottle:
    """Write and read units per partition key and second (scaled down for a simulation)."""

    write_units: float = 1000.0
    read_units: float = 3000.0
    clock: Callable[[], float] = time.monotonic
    indexes: dict[str, str] = field(default_factory=index_keys)
    throttled: Counter[Budget] = field(default_factory=Counter)
    requests: int = 0
    _windows: dict[Budget, tuple[int, float, float]] = field(default_factory=dict)  # second, writes, reads
    _index_keys: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # item -> index pks
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self.before_send)

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        target = str(request.headers.get("X-Amz-Target", b"")).split(".")[-1].rstrip("'")
        body = request.body
        params = json.loads(body.decode() if isinstance(body, bytes) else body or "{}")
        writes, reads, learn = self.cost(target, params)
        with self._lock:
            self.requests += 1
            over = self._over(writes, reads)
            if over:
                self.throttled.update(over)
                return throttled_response(request.url)
            second = int(self.clock())
            for key, units in writes.items():
                self._use(key, second, units, 0.0)
            for key, units in reads.items():
                self._use(key, second, 0.0, units)
            self._index_keys.update(learn)
        return None

    def _over(self, writes: dict[Budget, float], reads: dict[Budget, float]) -> list[Budget]:
        """Every partition this request would take over its budget (each counted as throttled)."""
        second = int(self.clock())
        over = []
        for key in {*writes, *reads}:
            start, used_w, used_r = self._windows.get(key, (second, 0.0, 0.0))
            if start != second:
                used_w = used_r = 0.0
            if (
                used_w + writes.get(key, 0.0) > self.write_units
                or used_r + reads.get(key, 0.0) > self.read_units
            ):
                over.append(key)
        return over

    def _use(self, key: Budget, second: int, writes: float, reads: float) -> None:
        start, used_w, used_r = self._windows.get(key, (second, 0.0, 0.0))
        if start != second:
            used_w = used_r = 0.0
        self._windows[key] = (second, used_w + writes, used_r + reads)

    # -- what a request costs -------------------------------------------------------------

    def cost(
        self, operation: str, params: dict[str, Any]
    ) -> tuple[dict[Budget, float], dict[Budget, float], dict[tuple[str, str], dict[str, str]]]:
        """Write units and read units per partition, and the index keys learnt from Puts."""
        writes: defaultdict[Budget, float] = defaultdict(float)
        reads: defaultdict[Budget, float] = defaultdict(float)
        learn: dict[tuple[str, str], dict[str, str]] = {}
        if operation == "TransactWriteItems":
            for part in params.get("TransactItems", []):
                (kind, request), *_ = part.items()
                self._write(kind, request, 2, writes, learn)
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self._write(operation.removesuffix("Item"), params, 1, writes, learn)
        elif operation == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    if "PutRequest" in request:
                        self._write("Put", request["PutRequest"], 1, writes, learn)
                    else:
                        self._write("Delete", request["DeleteRequest"], 1, writes, learn)
        elif operation == "GetItem":
            reads[(TABLE, _pk(params["Key"]))] += 1.0 if params.get("ConsistentRead") else 0.5
        elif operation == "TransactGetItems":
            for part in params.get("TransactItems", []):
                reads[(TABLE, _pk(part["Get"]["Key"]))] += 2.0
        elif operation == "BatchGetItem":
            for request in params.get("RequestItems", {}).values():
                for key in request.get("Keys", []):
                    reads[(TABLE, _pk(key))] += 0.5
        elif operation == "Query":
            partition = _query_partition(params)
            if partition is not None:
                reads[(params.get("IndexName", TABLE), partition)] += (
                    1.0 if params.get("ConsistentRead") else 0.5
                )
        return dict(writes), dict(reads), learn

    def _write(
        self,
        kind: str,
        request: dict[str, Any],
        factor: int,
        writes: defaultdict[Budget, float],
        learn: dict[tuple[str, str], dict[str, str]],
    ) -> None:
        if kind == "ConditionCheck":
            writes[(TABLE, _pk(request["Key"]))] += factor
            return
        item = request.get("Item") or request.get("Key", {})
        ident = (_pk(item), str(item.get("sk", {}).get("S", "")))
        old = self._index_keys.get(ident, {})
        if kind == "Put":
            new = {name: item[attr]["S"] for name, attr in self.indexes.items() if "S" in item.get(attr, {})}
            learn[ident] = new
        elif kind == "Update":
            removed = _removed(request, self.indexes)
            new = {
                k: v for k, v in {**old, **_set_index_keys(request, self.indexes)}.items() if k not in removed
            }
            learn[ident] = new
        else:
            new = {}
            learn[ident] = {}
        writes[(TABLE, ident[0])] += factor * max(1, math.ceil(item_size(item) / ITEM_UNIT))
        for name, partition in new.items():
            writes[(name, partition)] += 1
        for name, partition in old.items():
            if new.get(name) != partition:
                writes[(name, partition)] += 1


def _pk(key: dict[str, Any]) -> str:
    return str(key.get("pk", {}).get("S", ""))


def _query_partition(params: dict[str, Any]) -> str | None:
    """The partition a Query's key condition names (`<name> = :value`)."""
    found = re.search(r"(#?\w+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", ""))
    if not found:
        return None
    value = params.get("ExpressionAttributeValues", {}).get(found.group(2), {})
    return str(value.get("S", "")) or None


def _set_index_keys(request: dict[str, Any], indexes: dict[str, str]) -> dict[str, str]:
    """Index partition keys an Update SETs (`#a = :a` or `a = :a`)."""
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    by_attribute = {attr: name for name, attr in indexes.items()}
    found: dict[str, str] = {}
    for target, value in re.findall(r"(#?\w+)\s*=\s*(:\w+)", request.get("UpdateExpression", "")):
        attribute = names.get(target, target)
        if attribute in by_attribute and "S" in values.get(value, {}):
            found[by_attribute[attribute]] = values[value]["S"]
    return found


def _removed(request: dict[str, Any], indexes: dict[str, str]) -> set[str]:
    """Indexes an Update takes the item out of (REMOVE of their partition key attribute)."""
    found = re.search(r"REMOVE\s+(.*?)(?:\s+(?:SET|ADD|DELETE)\s|$)", request.get("UpdateExpression", ""))
    if not found:
        return set()
    names = request.get("ExpressionAttributeNames", {})
    removed = {names.get(part.strip(), part.strip()) for part in found.group(1).split(",")}
    return {name for name, attr in indexes.items() if attr in removed}
