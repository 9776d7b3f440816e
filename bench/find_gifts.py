"""Finding gifts: what each filter of GET /staff/donations reads, against DynamoDB Local.

Starts its own local stack, writes a year of gifts (GIFTS_PER_MONTH a month, varied funds,
campaigns, statuses, frequencies, donors and amounts; written straight with BatchWriteItem,
as the unit of work would write them), then lists the whole year under each filter, 200 a
page, and prints per filter: the gifts found, the Queries made, the items DynamoDB read
(ScannedCount: what the filter expression saw), the read capacity consumed, and the time.
A filter read from its own index reads about what it returns; the first line (no filter)
is what one filter applied over the month index alone would read. Run:
.venv/bin/python bench/find_gifts.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))
from common import Row, peers, record  # noqa: E402

GIFTS_PER_MONTH = int(os.environ.get("BENCH_GIFTS_PER_MONTH", "1000"))
YEAR = "2025"
FUNDS = ("where-needed-most", "peace-programs", "health-programs")
FILTERS: list[dict[str, Any]] = [
    {},
    {"status": "succeeded"},
    {"status": "refunded"},
    {"status": "failed"},
    {"fund": "health-programs"},
    {"campaign": "spring-appeal"},
    {"frequency": "installment"},
    {"frequency": "one_time"},
    {"email": "donor-7@example.org"},
    {"min_amount": 50000},
    {"fund": "peace-programs", "status": "refunded"},
    {"campaign": "spring-appeal", "frequency": "monthly"},
    {"status": "paid", "min_amount": 10000, "max_amount": 20000},
]


def seed(client: Any, table: str) -> int:
    from chalicelib.adapters.dynamo_base import to_item
    from chalicelib.adapters.dynamo_tx import donation_values
    from chalicelib.domain.donation import Donation
    from chalicelib.domain.ids import new_id

    batch: list[dict[str, Any]] = []
    count = 0
    for month in range(1, 13):
        for n in range(GIFTS_PER_MONTH):
            at = f"{YEAR}-{month:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00.000Z"
            status = "failed" if n % 20 == 0 else "succeeded"
            amount = 1000 + (n * 7919) % 99000
            gift = Donation(
                id=new_id(),
                status=status,
                amount=amount,
                currency="usd",
                fund=FUNDS[n % 3],
                campaign="spring-appeal" if n % 10 == 0 else None,
                email=f"donor-{n % 500}@example.org",
                first_name="A",
                last_name="B",
                created_at=at,
                updated_at=at,
                succeeded_at=at if status == "succeeded" else None,
                frequency="monthly" if n % 4 == 0 else "one_time",
                refunded=amount if n % 50 == 1 else 0,
            )
            batch.append({"PutRequest": {"Item": to_item(donation_values(gift))}})
            count += 1
            if len(batch) == 25:
                _write(client, table, batch)
                batch = []
    if batch:
        _write(client, table, batch)
    return count


def _write(client: Any, table: str, batch: list[dict[str, Any]]) -> None:
    request = {table: batch}
    while request:
        request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def measure(client: Any, table: str) -> None:
    from chalicelib.adapters.dynamo_find import list_donations
    from chalicelib.domain.finding import GiftFilter

    seen: dict[str, float] = {}

    def ask_capacity(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def count(parsed: dict[str, Any], **_: Any) -> None:
        seen["queries"] = seen.get("queries", 0) + 1
        seen["read"] = seen.get("read", 0) + parsed.get("ScannedCount", 0)
        seen["rcu"] = seen.get("rcu", 0) + parsed.get("ConsumedCapacity", {}).get("CapacityUnits", 0)

    client.meta.events.register("provide-client-params.dynamodb.Query", ask_capacity)
    client.meta.events.register("after-call.dynamodb.Query", lambda parsed, **kw: count(parsed))
    start, end = f"{YEAR}-01-01T00:00:00.000Z", f"{YEAR}-12-31T23:59:59.999Z~"
    print(f"{'filter':58} {'found':>6} {'queries':>7} {'read':>7} {'RCU':>8} {'ms':>7}")
    total_found = total_read = 0
    for query in FILTERS:
        seen.clear()
        found, cursor = 0, None
        began = time.perf_counter()
        while True:
            page = list_donations(client, table, start, end, 200, cursor, filters=GiftFilter(**query))
            found += len(page.items)
            cursor = page.cursor
            if not cursor:
                break
        took = (time.perf_counter() - began) * 1000
        total_found += found
        total_read += int(seen["read"])
        name = ", ".join(f"{k}={v}" for k, v in query.items()) or "(date range only: gsi1)"
        print(
            f"{name:58} {found:6d} {int(seen['queries']):7d} {int(seen['read']):7d}"
            f" {seen['rcu']:8.1f} {took:7.0f}"
        )
    # Every filter's items read against the gifts it found: 1.00 would be no item read in vain.
    record(
        Row(
            f"find gifts: items read vs found, {len(FILTERS)} filters",
            total_read,
            total_found,
            "items",
            "",
            None,
        )
    )


def main() -> None:
    with peers() as stack:  # DynamoDB Local is all it reads
        client: Any = stack.dynamodb_client()
        began = time.perf_counter()
        gifts = seed(client, stack.config.table_name)
        print(f"wrote {gifts} gifts of {YEAR} in {time.perf_counter() - began:.0f} s")
        measure(client, stack.config.table_name)


if __name__ == "__main__":
    main()
