"""Totals timing: GET /staff/reports/totals' service call against one bare paged Query that
reads the same aggregate items, for a year of 100,000 gifts.

Starts an in-memory DynamoDB Local (STEWARD_DYNAMODB_PORT, or a free port), makes the table
from infra/resources.json, and loads a year of generated gifts' aggregates: 99,000 gifts
summed with the same contribution function the stream handler uses and written as the cells
its ADDs leave, and the last 1,000 through the stream handler's own apply (a newer image of a
gift included). It checks that the report adds up to the gifts, then times, alternating and in
the same run, the service call (Query, parse, fold into rows) and the bare paged Query of
whole items, and prints the median of each, their ratio and the read capacity each consumed.
The service reads only a cell's sort key and figures (REPORT_PROJECTION), so the same bare
Query with that projection is timed too, as a second baseline. Run: make bench
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.adapters import keys  # noqa: E402
from chalicelib.adapters.dynamo_base import to_item  # noqa: E402
from chalicelib.adapters.dynamo_totals import (  # noqa: E402
    NAMES,
    REPORT_PROJECTION,
    DynamoTotals,
    cell_from_key,
    cell_values,
)
from chalicelib.domain.donation import Donation  # noqa: E402
from chalicelib.domain.totals import DIMENSION_OF, Cell, Figures, GroupBy, contribution, fold  # noqa: E402
from chalicelib.services.totals import apply_gift, report  # noqa: E402
from devstack import table  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from common import Row, peers, record  # noqa: E402

GIFTS = int(os.environ.get("BENCH_TOTALS_GIFTS", "100000"))
RUNS = int(os.environ.get("BENCH_TOTALS_RUNS", "21"))
STREAMED = int(os.environ.get("BENCH_TOTALS_STREAMED", "1000"))
YEAR = 2025
TABLE = "steward"
FUNDS = ("where-needed-most", "peace-programs", "health-programs")
CAMPAIGNS = (None, *(f"campaign-{n:02d}" for n in range(12)))
GROUPS: tuple[GroupBy, ...] = ("month", "day", "fund", "frequency", "campaign")


def gift(rng: random.Random, number: int) -> Donation:
    day = date.fromordinal(date(YEAR, 1, 1).toordinal() + rng.randrange(365)).isoformat()
    currency = rng.choices(("usd", "eur", "gbp"), (90, 7, 3))[0]
    amount = rng.choice((1000, 2500, 5000, 10000, 25000, rng.randrange(100, 200_000)))
    fee = amount * 22 // 1000 + 30
    settled = rng.random() < 0.98
    refunded = rng.choice((0, amount, amount // 2)) if rng.random() < 0.05 else 0
    dispute = rng.choice(("open", "lost", "won")) if rng.random() < 0.005 else None
    return Donation(
        id=f"bench{number:06d}",
        status=rng.choices(("succeeded", "failed", "abandoned"), (92, 5, 3))[0],
        amount=amount,
        currency=currency,
        fund=rng.choice(FUNDS),
        campaign=rng.choice(CAMPAIGNS),
        frequency=rng.choices(("one_time", "monthly", "annual"), (70, 25, 5))[0],
        email="donor@example.org",
        first_name="Bench",
        last_name="Donor",
        created_at=f"{day}T12:00:00.000Z",
        updated_at=f"{day}T12:00:00.000Z",
        succeeded_at=f"{day}T12:00:00.000Z",
        fee=fee if settled else None,
        net=amount - fee if settled else None,
        settlement_currency=("usd" if currency != "usd" and rng.random() < 0.5 else currency)
        if settled
        else None,
        refunded=refunded,
        dispute=dispute,
        disputed=amount if dispute else 0,
        version=3,
    )


def load(client: Any, store: DynamoTotals, gifts: list[Donation]) -> None:
    cells: dict[Cell, Figures] = defaultdict(Figures)
    for one in gifts[:-STREAMED]:
        for cell, figures in contribution(one).items():
            cells[cell] = cells[cell].plus(figures)
    items = [{"PutRequest": {"Item": to_item(cell_values(c, f))}} for c, f in cells.items()]
    for start in range(0, len(items), 25):
        request = {TABLE: items[start : start + 25]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    for one in gifts[-STREAMED:]:  # the stream handler's own path: an older image, then the gift
        older = one.model_copy(update={"version": 2, "refunded": 0, "status": "succeeded"})
        apply_gift(older, store)
        apply_gift(one, store)
        apply_gift(older, store)  # arriving late changes nothing
    print(f"loaded {len(cells)} aggregate cells from {len(gifts) - STREAMED} gifts, {STREAMED} more streamed")


def check(store: DynamoTotals, gifts: list[Donation]) -> None:
    paid = [g for g in gifts if g.status == "succeeded"]
    for group_by in GROUPS:
        rows = report(group_by, date(YEAR, 1, 1), date(YEAR, 12, 31), store)
        count = sum(r.figures.count for r in rows)
        gross = {c: sum(r.figures.gross for r in rows if r.currency == c) for c in ("usd", "eur", "gbp")}
        want = {c: sum(g.amount for g in paid if g.currency == c) for c in gross}
        if count != len(paid) or gross != want:
            raise SystemExit(
                f"group_by={group_by}: {count} gifts, gross {gross}; the gifts say {len(paid)}, {want}"
            )
    print(f"checked: every grouping adds up to the {len(paid)} paid gifts, per currency")


def bare_query(client: Any, dimension: str, projected: bool = False) -> tuple[list[dict[str, Any]], float]:
    """One paged Query of the same items, nothing else: (items, read capacity). Projected:
    only the attributes the service reads."""
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": to_item(
            {
                ":pk": keys.totals(dimension, str(YEAR)),
                ":first": f"{YEAR}-01-01",
                ":last": f"{YEAR}-12-31#\uffff",
            }
        ),
        "ReturnConsumedCapacity": "TOTAL",
    }
    if projected:
        request |= {"ProjectionExpression": REPORT_PROJECTION, "ExpressionAttributeNames": NAMES}
    items: list[dict[str, Any]] = []
    capacity = 0.0
    while True:
        response = client.query(**request)
        items.extend(response["Items"])
        capacity += response["ConsumedCapacity"]["CapacityUnits"]
        if "LastEvaluatedKey" not in response:
            return items, capacity
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def measure(client: Any, store: DynamoTotals, group_by: GroupBy) -> None:
    start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    dimension = DIMENSION_OF[group_by]
    took: dict[str, list[float]] = {"service": [], "bare": [], "projected": []}
    for run in range(RUNS + 2):  # two warm-up runs
        order = list(took)[run % 3 :] + list(took)[: run % 3]  # each goes first in turn
        for which in order:
            began = time.perf_counter()
            if which == "service":
                rows = report(group_by, start, end, store)
            elif which == "bare":
                items, bare_capacity = bare_query(client, dimension)
            else:
                projected, _ = bare_query(client, dimension, projected=True)
            took[which].append(time.perf_counter() - began)
    service, bare, lean = (took[k][2:] for k in ("service", "bare", "projected"))
    service_ms, bare_ms, lean_ms = (statistics.median(t) * 1000 for t in (service, bare, lean))
    # Each run's pair side by side: steadier than the ratio of medians on a shared machine.
    paired = statistics.median(s / b for s, b in zip(service, bare, strict=True))
    own = []  # what the service adds to the Query: parsing the items and folding them into rows
    for _ in range(RUNS):
        began = time.perf_counter()
        fold([cell_from_key(dimension, item) for item in projected], group_by, start, end)
        own.append(time.perf_counter() - began)
    print(
        f"group_by={group_by:<9} {len(items):6d} items {len(rows):5d} rows | service {service_ms:7.1f} ms"
        f" ({store.read_capacity:.1f} RCU) | bare Query {bare_ms:7.1f} ms ({bare_capacity:.1f} RCU)"
        f" | ratio {service_ms / bare_ms:4.2f} (median of paired runs {paired:4.2f})"
        f" | projected bare Query {lean_ms:7.1f} ms, ratio {service_ms / lean_ms:4.2f}"
        f" | parse and fold alone {statistics.median(own) * 1000:.1f} ms"
    )
    record(Row(f"totals by {group_by} vs bare paged Query", service_ms, bare_ms, "ms", "<= 1.30x", 1.3))


def main() -> None:
    with peers() as stack:
        client: Any = stack.dynamodb_client()
        table.ensure_table(client, TABLE)
        store = DynamoTotals(TABLE, client)
        rng = random.Random(8)
        gifts = [gift(rng, n) for n in range(GIFTS)]
        load(client, store, gifts)
        check(store, gifts)
        print(f"median of {RUNS} alternating runs each, a year ({YEAR}) of {GIFTS} gifts:")
        for group_by in GROUPS:
            measure(client, store, group_by)


if __name__ == "__main__":
    main()
