"""Export benchmark: a year of 100,000 gifts to CSV in S3, against one bare paged Query.

Starts DynamoDB Local (in memory) and the local S3 server on free ports, writes 100,000 gift
records spread over 2025 (a tenth of them installments of 1,000 plans: a plan per 100 gifts
at any size), then times, in the same run and alternating, (a) the export job
(services.exports.run_export: the paged gift Query, the CSV rows, the multipart upload) and
(b) one bare paged Query over the same index items that only counts them. Prints both
medians, their ratio, the job's peak memory and the read capacity each consumed. Run: make
bench (or .venv/bin/python bench/export.py [gifts]; BENCH_EXPORT_GIFTS sets the default)
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.adapters import keys  # noqa: E402
from chalicelib.adapters.dynamo_base import to_item  # noqa: E402
from chalicelib.adapters.dynamo_tx import donation_values, plan_values  # noqa: E402
from chalicelib.domain.donation import Donation  # noqa: E402
from chalicelib.domain.exports import ExportRequest  # noqa: E402
from chalicelib.domain.ids import new_id  # noqa: E402
from chalicelib.domain.recurring import RecurringPlan  # noqa: E402
from chalicelib.services import exports  # noqa: E402
from devstack.stack import Stack  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from common import Row, peers, record  # noqa: E402

DEFAULT_GIFTS = int(os.environ.get("BENCH_EXPORT_GIFTS", "100000"))
GIFTS_PER_PLAN = 100  # 1,000 plans for 100,000 gifts, and as many per gift at any size
ROUNDS = int(os.environ.get("BENCH_EXPORT_ROUNDS", "5"))
YEAR = 2025


class Capacity:
    """Read capacity of every read a client makes (ReturnConsumedCapacity on each)."""

    def __init__(self, client: Any) -> None:
        self.units = 0.0
        for operation in ("Query", "BatchGetItem", "GetItem"):
            client.meta.events.register(f"provide-client-params.dynamodb.{operation}", self._ask)
            client.meta.events.register(f"after-call.dynamodb.{operation}", self._add)

    def _ask(self, params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _add(self, parsed: dict[str, Any], **_: Any) -> None:
        used = parsed.get("ConsumedCapacity", {})
        for entry in used if isinstance(used, list) else [used]:
            self.units += float(entry.get("CapacityUnits", 0))

    def take(self) -> float:
        units, self.units = self.units, 0.0
        return units


def gift(number: int, rng: random.Random, plans: list[RecurringPlan]) -> Donation:
    created = datetime(YEAR, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400))
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(1000):03d}Z"
    amount = rng.choice([1000, 2500, 5000, 10000, 25000, 100000])
    fee = amount * 22 // 1000 + 30
    plan = plans[number % len(plans)] if number % 10 == 0 else None
    return Donation(
        id=new_id(int(created.timestamp() * 1000)),
        status="succeeded",
        amount=amount,
        currency="usd",
        fund=rng.choice(["where-needed-most", "peace-programs", "health-programs"]),
        campaign=rng.choice([None, "spring-appeal", "year-end"]),
        email=f"donor{number % 40000}@example.org",
        first_name=rng.choice(["Ada", "Grace", "Alan", "=Mallory"]),
        last_name=f"Donor{number}",
        created_at=stamp,
        updated_at=stamp,
        succeeded_at=stamp,
        frequency=plan.frequency if plan else "one_time",
        recurring_id=plan.id if plan else None,
        payment_intent_id=f"pi_bench{number:08d}",
        charge_id=f"ch_bench{number:08d}",
        fee=fee,
        net=amount - fee,
        settlement_currency="usd",
        receipt_number=f"{YEAR}-{number:06d}",
        utm_source=rng.choice([None, "newsletter", "facebook"]),
    )


def load(stack: Stack, gifts: int) -> None:
    rng = random.Random(8)
    now = f"{YEAR}-01-01T00:00:00.000Z"
    plans = [
        RecurringPlan(
            id=new_id(),
            status="active",
            amount=2500,
            currency="usd",
            frequency="monthly",
            fund="peace-programs",
            email=f"plan{n}@example.org",
            first_name="Plan",
            last_name=f"Donor{n}",
            customer_id=f"cus_bench{n:05d}",
            subscription_id=f"sub_bench{n:05d}",
            created_at=now,
            updated_at=now,
        )
        for n in range(max(1, gifts // GIFTS_PER_PLAN))
    ]
    client: Any = stack.dynamodb_client()
    table = stack.config.table_name

    def write(batch: list[dict[str, Any]]) -> None:
        request = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:  # built and written 5,000 at a time, to keep this process small
        items = [to_item(plan_values(p)) for p in plans]
        for first in range(0, gifts, 5000):
            items += [
                to_item(donation_values(gift(n, rng, plans))) for n in range(first, min(gifts, first + 5000))
            ]
            list(pool.map(write, [items[i : i + 25] for i in range(0, len(items), 25)]))
            items = []
    took = time.perf_counter() - started
    print(f"loaded {gifts:,} gifts and {len(plans):,} plans in {took:.0f} s", flush=True)


def bare_query(client: Any, table: str) -> int:
    """One paged Query per month partition (each shard and the key from before sharding) over
    the same key range; it only counts."""
    count = 0
    months = [f"DONATIONS#{YEAR}-{month:02d}" for month in range(1, 13)]
    for partition in [p for month in months for p in keys.find_partitions(month)]:
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :month AND gsi1sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":month": {"S": partition},
                ":start": {"S": f"{YEAR}-01-01T00:00:00.000Z"},
                ":end": {"S": f"{YEAR}-12-31T23:59:59.999Z~"},
            },
        }
        while True:
            page = client.query(**request)
            count += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return count


def export_once(ports: exports.ExportPorts) -> tuple[float, int, str]:
    request = ExportRequest.model_validate(
        {"kind": "donations", "from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}
    )
    job = exports.request_export(request, "bench", ports.exports)
    started = time.perf_counter()
    result = exports.run_export(job.id, ports)
    elapsed = time.perf_counter() - started
    done = ports.exports.get_export(job.id)
    if result != "done" or done is None:
        raise SystemExit(f"the export ended {result}: {done.reason if done else 'missing'}")
    return elapsed, done.rows, done.object_key or ""


def main() -> None:
    gifts = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_GIFTS
    with peers(s3=True) as stack:
        measure(stack, gifts)


def measure(stack: Stack, gifts: int) -> None:
    from chalicelib import bootstrap

    load(stack, gifts)
    bootstrap.reset()
    ports = bootstrap.get_export_ports()
    client = bootstrap._dynamodb_client()
    capacity = Capacity(client)
    export_times, query_times = [], []
    export_units = query_units = 0.0
    rows = counted = 0
    key = ""
    export_once(ports)  # warm up both
    bare_query(client, stack.config.table_name)
    capacity.take()
    for round_number in range(ROUNDS):
        order = ["export", "query"] if round_number % 2 == 0 else ["query", "export"]
        for kind in order:
            if kind == "export":
                elapsed, rows, key = export_once(ports)
                export_times.append(elapsed)
                export_units = capacity.take()
            else:
                started = time.perf_counter()
                counted = bare_query(client, stack.config.table_name)
                query_times.append(time.perf_counter() - started)
                query_units = capacity.take()
    tracemalloc.start()
    export_once(ports)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    export_s, query_s = statistics.median(export_times), statistics.median(query_times)
    print(f"export job:        {export_s:6.2f} s  median of {ROUNDS}, {rows:,} rows to S3 (multipart)")
    print(f"bare paged Query:  {query_s:6.2f} s  median of {ROUNDS}, {counted:,} items")
    print(f"ratio export/query: {export_s / query_s:4.2f}  (target <= 1.30)")
    print(f"export peak memory: {peak / 2**20:6.1f} MB traced (tracemalloc), process max RSS {rss:6.1f} MB")
    print("   (the RSS also holds what this script built to load the table, 5,000 records at a time)")
    size = stack.s3_client().head_object(Bucket=stack.config.export_bucket, Key=key)["ContentLength"]
    print(f"CSV file: {size / 2**20:6.1f} MB for {rows:,} gifts")
    print(f"read capacity per run: export {export_units:,.1f} RCU, bare Query {query_units:,.1f} RCU")
    record(Row(f"export of {rows:,} gifts vs bare paged Query", export_s, query_s, "s", "<= 1.30x", 1.3))
    record(Row("export peak memory (tracemalloc)", peak / 2**20, None, "MB", "<= 256", 256, kind="count"))


if __name__ == "__main__":
    main()
