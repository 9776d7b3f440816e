"""Campaign progress: what GET /campaigns/{id} costs, and what keeping progress adds to the
totals stream handler's write for each gift.

Starts an in-memory DynamoDB Local (bench/common.py), makes the table from
infra/resources.json, and streams 2,000 generated gifts by 400 donors through the handler's own
apply (a paid image, then for some a partial or full refund, and a replay of every image), half
with a campaign and half without. It checks that each campaign's amount raised, gifts and
donors equal what the gift records say, then prints the items (and write units) of the
handler's transaction per image with and without a campaign, and for the route's service call:
the DynamoDB calls it makes, the read capacity of its one GetItem, and its median time.
Run: make bench
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.totals import TABLE  # noqa: E402
from chalicelib.adapters import keys  # noqa: E402
from chalicelib.adapters.dynamo_base import to_item  # noqa: E402
from chalicelib.adapters.dynamo_totals import DynamoTotals  # noqa: E402
from chalicelib.domain.campaigns import Campaign  # noqa: E402
from chalicelib.domain.donation import Donation  # noqa: E402
from chalicelib.services.campaigns import campaign_progress  # noqa: E402
from chalicelib.services.totals import apply_gift  # noqa: E402
from devstack import table  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from common import Row, peers, record  # noqa: E402

GIFTS = int(os.environ.get("BENCH_CAMPAIGN_GIFTS", "2000"))
DONORS, READS = 400, 200
CAMPAIGNS = (
    Campaign("spring-appeal", "Spring appeal", 5_000_000, "usd"),
    Campaign("gala", "Gala", 2_000_000, "usd"),
)


def history(rng: random.Random, number: int) -> list[Donation]:
    """A gift's images as the stream delivers them: paid, then maybe a refund (part or all)."""
    day = f"2027-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T12:00:00.000Z"
    amount = rng.choice((1000, 2500, 5000, 10000, rng.randrange(100, 50_000)))
    paid = Donation(
        id=f"camp{number:06d}",
        status="succeeded",
        amount=amount,
        currency="usd",
        fund="peace-programs",
        campaign=rng.choice([c.id for c in CAMPAIGNS]) if number % 2 else None,
        email=f"donor{rng.randrange(DONORS)}@example.org",
        first_name="Bench",
        last_name="Donor",
        created_at=day,
        updated_at=day,
        succeeded_at=day,
        version=2,
    )
    roll = rng.random()
    if roll < 0.05:
        return [paid, paid.model_copy(update={"refunded": amount, "version": 3})]
    if roll < 0.10:
        return [paid, paid.model_copy(update={"refunded": amount // 2, "version": 3})]
    return [paid]


class Writes:
    """Counts the items of each TransactWriteItems (DynamoDB Local reports no honest capacity
    for transactions; on AWS each item of one costs 2 write units per KB)."""

    def __init__(self, client: Any) -> None:
        self.last = 0
        client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", self.count)

    def count(self, params: dict[str, Any], **_: Any) -> None:
        self.last = len(params["TransactItems"])


def stream(store: DynamoTotals, writes: Writes, histories: list[list[Donation]]) -> None:
    items: dict[str, list[int]] = defaultdict(list)
    for images in histories:
        for image in images:
            writes.last = 0
            apply_gift(image, store)
            kind = "with a campaign" if image.campaign else "without"
            items[f"{kind}, {'paid' if image.refunded == 0 else 'refunded'}"].append(writes.last)
        for image in images:
            apply_gift(image, store)  # a replay: a read, no write
    for kind, counts in sorted(items.items()):
        spread = {n: counts.count(n) for n in sorted(set(counts))}
        shown = ", ".join(f"{n} items ({2 * n} write units) in {times}" for n, times in spread.items())
        print(f"totals handler, gift {kind}: {shown} of {len(counts)} transactions")


def check(store: DynamoTotals, histories: list[list[Donation]]) -> None:
    for campaign in CAMPAIGNS:
        finals = [h[-1] for h in histories if h[-1].campaign == campaign.id]
        kept = [g for g in finals if g.amount > g.refunded]
        want = (sum(g.amount - g.refunded for g in kept), len(kept), len({g.email for g in kept}))
        found = tuple(store.progress(campaign.id, "usd"))
        if found != want:
            raise SystemExit(f"{campaign.id}: raised, gifts, donors {found}; the gifts say {want}")
        print(f"checked {campaign.id}: raised {want[0]}, {want[1]} gifts, {want[2]} donors, as the gifts say")


def reads(client: Any, store: DynamoTotals) -> None:
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    times = []
    for _ in range(READS):
        started = time.perf_counter()
        campaign_progress("spring-appeal", campaigns=CAMPAIGNS, store=store)
        times.append(time.perf_counter() - started)
    per_call = sorted(set(calls))
    per_request = len(calls) / READS
    key = to_item(keys.campaign_progress("spring-appeal", "usd"))
    units = client.get_item(TableName=TABLE, Key=key, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    median_ms = statistics.median(times) * 1000
    print(
        f"GET /campaigns/spring-appeal service call: {len(calls) / READS:.0f} DynamoDB call(s)"
        f" ({', '.join(per_call)}), {units['CapacityUnits']} read units (eventually consistent),"
        f" median {median_ms:.2f} ms over {READS} calls"
    )
    route = "GET /campaigns/{id} service call"
    record(Row(f"round trips: {route} (DynamoDB)", per_request, None, "calls", "", None, kind="count"))
    record(Row(f"{route}, median of {READS}", median_ms, None, "ms", "", None))


def main() -> None:
    with peers() as stack:
        client: Any = stack.dynamodb_client()
        table.ensure_table(client, TABLE)
        store = DynamoTotals(TABLE, client)
        writes = Writes(client)
        rng = random.Random(9)
        histories = [history(rng, n) for n in range(GIFTS)]
        stream(store, writes, histories)
        check(store, histories)
        reads(client, store)


if __name__ == "__main__":
    main()
