"""A telethon peak, scaled down: what breaks first, and does anything get lost or doubled.

The design target is 1,000 gifts a second for ten minutes (README "A telethon peak"). This
runs it against DynamoDB Local at 1/SCALE of the rate and of the time (default 1/20: 50 gifts
a second for 30 s), with DynamoDB's per-partition limits injected through botocore at the
same scale (devstack/throttle.py: 1,000 write and 3,000 read units a second per partition key,
in the table and in each index, become 50 and 150). DynamoDB Local itself never throttles.

Each gift, on 8 worker threads at the offered rate (open loop, as donors arrive):
1. is created pending, as POST /donations writes it (one unit of work; its Stripe calls are
   left out: Stripe's rate limit is on paper in the README);
2. is paid: a `payment_intent.succeeded` event signed with the webhook secret goes through the
   real webhook service (verify, store once, apply once, receipt in the same transaction);
   10% of events are delivered twice, as Stripe may. A delivery that fails (throttled past
   botocore's own retries) is retried later, as Stripe retries a non-2xx answer.
Meanwhile one thread drives the app's stream handlers (totals, outbox) from DynamoDB Local's
stream exactly as devstack/stream_poller.py does (bisect, bounded retries, on-failure list),
and the outbox sweep every 3 s. Mail goes to the local SMTP sink.

At the end it checks with Queries and GetItems (no Scan): every gift succeeded once, every
event processed, the day's totals and the campaign's progress equal the sum over the gifts,
one receipt per donor, nothing left in the outbox, nothing handed to the on-failure list. It
prints a timeline, the throttled partitions, and how long the backlog took to drain. Run:
.venv/bin/python bench/telethon.py            (TELETHON_SCALE=20 TELETHON_SECONDS=30)
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.stack import Stack, StackConfig  # noqa: E402
from devstack.throttle import PartitionThrottle  # noqa: E402

PEAK_GIFTS_PER_SECOND = 1000
PEAK_SECONDS = 600
PARTITION_WRITE_UNITS = 1000
PARTITION_READ_UNITS = 3000
SCALE = int(os.environ.get("TELETHON_SCALE", "100"))
SECONDS = int(os.environ.get("TELETHON_SECONDS", "30"))
RATE = PEAK_GIFTS_PER_SECOND / SCALE
WORKERS = 8
DUPLICATE_SHARE = 0.10
CAMPAIGN = "telethon"
DRAIN_TIMEOUT = float(os.environ.get("TELETHON_DRAIN_TIMEOUT", "600"))
BUCKET_SECONDS = 5
PORT_BASE = int(os.environ.get("TELETHON_PORT_BASE", "30060"))  # six ports from here


@dataclass
class Run:
    """What happened, with the time (seconds since the start) of each step."""

    start: float = field(default_factory=time.monotonic)
    created: dict[str, float] = field(default_factory=dict)
    paid: dict[str, float] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)  # event id -> donation id
    create_refused: int = 0
    webhook_refused: int = 0
    duplicates_sent: int = 0
    duplicates_answered: int = 0
    stream_failures: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # the queue
    given_up: int = 0
    redriven: int = 0
    stream_records: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self) -> float:
        return time.monotonic() - self.start


def stack_config(local: Path) -> StackConfig:
    return StackConfig.on_ports([PORT_BASE + n for n in range(6)], local, "steward-telethon")


def new_gift(n: int) -> Any:
    from chalicelib.domain.donation import Donation
    from chalicelib.domain.ids import new_id

    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    gift_id = new_id()
    return Donation(
        id=gift_id,
        amount=1000 + (n * 7919) % 99000,
        currency="usd",
        fund="where-needed-most",
        campaign=CAMPAIGN,
        email=f"donor-{n}@example.org",
        first_name="Telethon",
        last_name=f"Donor {n}",
        created_at=now,
        updated_at=now,
        payment_intent_id=f"pi_telethon_{gift_id}",
    )


def succeeded_event(gift: Any, secret: str) -> tuple[str, bytes, str]:
    from tests.helpers import event, sign

    obj = {
        "id": gift.payment_intent_id,
        "object": "payment_intent",
        "amount": gift.amount,
        "amount_received": gift.amount,
        "currency": gift.currency,
        "status": "succeeded",
        "latest_charge": f"ch_telethon_{gift.id}.{gift.amount}",
        "metadata": {"donation_id": gift.id},
    }
    event_id = f"evt_telethon_{gift.id}"
    payload = event("payment_intent.succeeded", obj, event_id, api_version="2025-03-31.basil")
    return event_id, payload, sign(payload, secret)


class StripeReads:
    """The real Stripe adapter (it verifies every signature) with its one read per paid gift,
    the charge's balance transaction, answered here with Stripe's standard US card fee
    (2.9% + 30): Stripe's own rate limit is worked out in the README, not simulated."""

    def __init__(self, payments: Any) -> None:
        self.payments = payments
        self.reads = 0
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.payments, name)

    def settlement(self, charge_id: str) -> Any:
        from chalicelib.services.ports import Settlement

        with self.lock:
            self.reads += 1
        amount = int(charge_id.rsplit("_", 1)[-1].split(".")[-1]) if "." in charge_id else 0
        fee = (amount * 29 + 999) // 1000 + 30
        return Settlement(fee=fee, net=amount - fee, currency="usd")


class Donors:
    """Creates gifts and delivers their events at the offered rate; failed deliveries wait
    and go again (Stripe's retries, scaled down: 1 s, 2 s, 4 s, ... capped at 8 s)."""

    def __init__(self, run: Run, secret: str) -> None:
        from chalicelib.bootstrap import get_gift_mail, get_payments, get_repository

        self.run, self.secret = run, secret
        self.repo, self.payments, self.mail = get_repository(), StripeReads(get_payments()), get_gift_mail()
        self.retries: queue.Queue[tuple[float, int, str, bytes, str]] = queue.Queue()

    def create(self, n: int) -> None:
        from chalicelib.domain.errors import UpstreamError

        gift = new_gift(n)
        wait = 0.5
        while True:  # the donor's page retries a 503 (the create is conditional: never twice)
            try:
                work = self.repo.unit_of_work()
                work.save_donation(gift, None)
                work.commit()
                break
            except UpstreamError:
                with self.run.lock:
                    self.run.create_refused += 1
                time.sleep(wait)
                wait = min(wait * 2, 4.0)
        with self.run.lock:
            self.run.created[gift.id] = self.run.at()
            self.run.amounts[gift.id] = gift.amount
        event_id, payload, signature = succeeded_event(gift, self.secret)
        with self.run.lock:
            self.run.events[event_id] = gift.id
        self.deliver(gift.id, payload, signature, attempt=0)
        if random.random() < DUPLICATE_SHARE:
            with self.run.lock:
                self.run.duplicates_sent += 1
            self.deliver(gift.id, payload, signature, attempt=0)

    def deliver(self, gift_id: str, payload: bytes, signature: str, attempt: int) -> None:
        from chalicelib.services.webhooks import handle_stripe_event

        try:
            answer = handle_stripe_event(
                payload, signature, repo=self.repo, payments=cast(Any, self.payments), mail=self.mail
            )
        except Exception:  # the route answers non-2xx: Stripe sends the event again later
            with self.run.lock:
                self.run.webhook_refused += 1
            due = time.monotonic() + min(2.0**attempt, 8.0)
            self.retries.put((due, attempt + 1, gift_id, payload, signature))
            return
        with self.run.lock:
            if answer.get("duplicate"):
                self.run.duplicates_answered += 1
            self.run.paid.setdefault(gift_id, self.run.at())

    def redeliver(self, stop: threading.Event) -> None:
        while not (stop.is_set() and self.retries.empty()):
            try:
                due, attempt, gift_id, payload, signature = self.retries.get(timeout=0.2)
            except queue.Empty:
                continue
            time.sleep(max(0.0, due - time.monotonic()))
            self.deliver(gift_id, payload, signature, attempt)


def failed(run: Run, name: str) -> Any:
    """The on-failure destination of one event source: the record is kept, as SQS keeps it."""

    def keep(record: dict[str, Any]) -> None:
        with run.lock:
            run.stream_failures.append((name, record))
            run.given_up += 1

    return keep


def drive_stream(run: Run, table: str, endpoint: str, stop: threading.Event) -> None:
    """The deployed event sources, as the local poller drives them: totals (10 retries) and
    outbox (2), bisecting a failed batch; what is given up on is listed, as SQS would hold it."""
    from app import app
    from devstack.stream_poller import Poller, run_batch, run_scheduled

    totals, outbox = app.handler_map["totals_stream"], app.handler_map["outbox_stream"]
    poller = Poller(table, endpoint)
    poller.refresh_shards()
    last_sweep = time.monotonic()
    while not stop.is_set():
        records = poller.poll()
        for name, handler, retries in (("totals", totals, 10), ("outbox", outbox, 2)):
            if records:
                run_batch(handler, records, failed(run, name), retries, 0.2)
        with run.lock:
            run.stream_records.extend([run.at()] * len(records))
        if time.monotonic() - last_sweep > 3:
            last_sweep = time.monotonic()
            run_scheduled(app, "outbox_sweep")
        if not records:
            redrive(run, {"totals": totals, "outbox": outbox})
            time.sleep(0.1)


# -- checks, with a client the throttle does not see ----------------------------------------


def redrive(run: Run, handlers: dict[str, Any]) -> None:
    """What the event sources gave up on, handed to the function again once the stream is
    quiet, as an operator redrives the on-failure queue (README "Finance totals")."""
    from devstack.stream_poller import run_batch

    with run.lock:
        waiting, run.stream_failures = run.stream_failures, []
    for name, record in waiting:
        run_batch(handlers[name], [record], failed(run, name), 10 if name == "totals" else 2, 0.2)
        with run.lock:
            run.redriven += 1


def sample(
    run: Run, throttle: PartitionThrottle, log: list[tuple[float, int]], stop: threading.Event
) -> None:
    """The throttled requests of each second, for the timeline."""
    seen = 0
    while not stop.wait(1.0):
        count = sum(throttle.throttled.values())
        log.append((run.at(), count - seen))
        seen = count


def query_count(client: Any, table: str, index: str, partition: str, key: str = "gsi1pk") -> int:
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": f"{key} = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "Select": "COUNT",
    }
    count = 0
    while True:
        response = client.query(**request)
        count += int(response["Count"])
        if "LastEvaluatedKey" not in response:
            return count
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def receipts(mail_dir: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in mail_dir.glob("*.eml"):
        head = path.read_bytes()[:4000].decode(errors="replace")
        to = re.search(r"^To: .*?(donor-\d+@example\.org)", head, re.MULTILINE)
        if to:
            found[to.group(1)] += 1
    return found


def state(run: Run, client: Any, table: str, mail_dir: Path) -> dict[str, Any]:
    """Where things stand: totals and campaign progress against the gifts, the outbox, mail."""
    from chalicelib.adapters import dynamo_campaigns, keys
    from chalicelib.adapters.dynamo_totals import DynamoTotals

    today = datetime.now(UTC).date()
    cells = DynamoTotals(table, client).cells("all", today, today)
    counted = sum(f.count for _, f in cells)
    gross = sum(f.gross for _, f in cells)
    progress = dynamo_campaigns.progress(client, table, CAMPAIGN, "usd")
    sent = receipts(mail_dir)
    return {
        "totals_count": counted,
        "totals_gross": gross,
        "progress": progress,
        "outbox_pending": sum(
            query_count(client, table, "gsi1", p) for p in keys.outbox_pending_partitions()
        ),
        "outbox_failed": query_count(client, table, "gsi1", "OUTBOX#FAILED"),
        "receipts": sent,
    }


def drained(run: Run, now: dict[str, Any]) -> bool:
    n = len(run.created)
    return bool(
        len(run.paid) == n
        and now["totals_count"] == n
        and now["outbox_pending"] == 0
        and len(now["receipts"]) == n
    )


def verify(
    run: Run, client: Any, table: str, now: dict[str, Any], offered: int
) -> list[tuple[str, str, str]]:
    """(check, expected, found) for every promise: nothing lost, nothing doubled."""
    from chalicelib.adapters import keys

    month = keys.donations_by_month(datetime.now(UTC).isoformat())
    status = keys.donations_by_status("succeeded", month[-7:])
    succeeded = sum(
        query_count(client, table, "gifts_by_status", p, key="status_pk")
        for p in keys.find_partitions(status)
    )
    unprocessed = 0
    for event_id in run.events:
        item = client.get_item(TableName=table, Key={"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": "EVENT"}})
        if not item.get("Item", {}).get("processed", {}).get("BOOL"):
            unprocessed += 1
    n, gross = len(run.created), sum(run.amounts.values())
    progress = now["progress"]
    doubled = sum(1 for count in now["receipts"].values() if count > 1)
    return [
        ("gifts created (of those offered)", str(offered), str(n)),
        ("gifts succeeded (status index Query)", str(n), str(succeeded)),
        ("webhook events processed", str(len(run.events)), str(len(run.events) - unprocessed)),
        ("duplicate deliveries answered duplicate", str(run.duplicates_sent), str(run.duplicates_answered)),
        ("totals: count of the day's `all` cells", str(n), str(now["totals_count"])),
        ("totals: gross of the day's `all` cells", str(gross), str(now["totals_gross"])),
        ("campaign progress: gifts", str(n), str(progress.gifts)),
        ("campaign progress: raised", str(gross), str(progress.raised)),
        ("receipts in the mail sink (one per donor)", str(n), str(sum(now["receipts"].values()))),
        ("donors with two receipts", "0", str(doubled)),
        ("outbox pending / failed", "0 / 0", f"{now['outbox_pending']} / {now['outbox_failed']}"),
        ("stream records left in the on-failure queue", "0", str(len(run.stream_failures))),
    ]


def timeline(run: Run, throttle_log: list[tuple[float, int]], end: float) -> list[list[str]]:
    rows = []
    for low in range(0, int(end) + BUCKET_SECONDS, BUCKET_SECONDS):
        high = low + BUCKET_SECONDS

        def inside(times: Any, lo: int = low, hi: int = high) -> int:
            return sum(1 for t in times if lo <= t < hi)

        throttled = sum(c for t, c in throttle_log if low <= t < high)
        rows.append(
            [
                f"{low:>4}-{high:<4}",
                str(inside(run.created.values())),
                str(inside(run.paid.values())),
                str(inside(run.stream_records)),
                str(throttled),
            ]
        )
    return rows


def table_text(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, "-" * len(line), *body])


def main() -> int:
    out = sys.stdout
    local = Path(tempfile.mkdtemp(prefix="steward-telethon-"))
    stack = Stack(stack_config(local), extra_env={"STEWARD_CAMPAIGNS": f"{CAMPAIGN}=Telethon=100000000=usd"})
    log = (local / "run.log").open("w")
    stack.start_storage()
    stack.start_smtp()
    try:
        os.environ.update(stack.app_env())
        from chalicelib import bootstrap

        bootstrap.reset()
        throttle = PartitionThrottle(PARTITION_WRITE_UNITS / SCALE, PARTITION_READ_UNITS / SCALE)
        throttle.install(bootstrap._dynamodb_client())
        check_client = stack.dynamodb_client()
        run = Run()
        donors = Donors(run, stack.webhook_secret)
        stop_stream, stop_retries = threading.Event(), threading.Event()
        throttle_log: list[tuple[float, int]] = []
        total = int(RATE * SECONDS)
        print(
            f"telethon: {total} gifts at {RATE:g}/s for {SECONDS} s (1/{SCALE} of the rate of "
            f"{PEAK_GIFTS_PER_SECOND}/s); per partition key {throttle.write_units:g} WCU/s "
            f"and {throttle.read_units:g} RCU/s",
            file=out,
            flush=True,
        )
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            stream = threading.Thread(
                target=drive_stream,
                args=(run, stack.config.table_name, stack.config.dynamodb_url, stop_stream),
            )
            retrier = threading.Thread(target=donors.redeliver, args=(stop_retries,))
            stream.start()
            retrier.start()
            time.sleep(1.0)  # the poller's shard iterators are set before the first gift
            run.start = time.monotonic()
            stop_sampling = threading.Event()
            sampler = threading.Thread(target=sample, args=(run, throttle, throttle_log, stop_sampling))
            sampler.start()
            with ThreadPoolExecutor(WORKERS) as pool:
                for n in range(total):
                    time.sleep(max(0.0, run.start + n / RATE - time.monotonic()))
                    pool.submit(donors.create, n)
                offered_end = run.at()
            load_end = run.at()
            stop_retries.set()
            drain_end = None
            while run.at() - load_end < DRAIN_TIMEOUT:
                now = state(run, check_client, stack.config.table_name, stack.mail_dir)
                if drained(run, now) and not retrier.is_alive():
                    drain_end = run.at()
                    break
                time.sleep(1.0)
            stop_stream.set()
            stop_sampling.set()
            sampler.join(timeout=5)
            stream.join(timeout=30)
            retrier.join(timeout=30)
        now = state(run, check_client, stack.config.table_name, stack.mail_dir)
        checks = verify(run, check_client, stack.config.table_name, now, total)
        end = drain_end if drain_end is not None else run.at()
        print(
            table_text(
                ["seconds", "created", "paid", "stream records", "throttled"],
                timeline(run, throttle_log, end),
            ),
            file=out,
        )
        by_key = Counter({f"{index} {key}": c for (index, key), c in throttle.throttled.items()})
        print(
            "\nthrottled requests by partition (each one retried by botocore, then by the caller)", file=out
        )
        hot = [[k, str(c)] for k, c in by_key.most_common(12)] or [["-", "0"]]
        print(table_text(["partition", "throttled"], hot), file=out)
        print("\nnothing lost, nothing doubled", file=out)
        rows = [[name, want, got, "ok" if want == got else "MISMATCH"] for name, want, got in checks]
        print(table_text(["check", "expected", "found", ""], rows), file=out)
        paid_lag = sorted(run.paid[g] - run.created[g] for g in run.paid if g in run.created)
        figures = [
            ["offered load ended at (s)", f"{offered_end:.1f}"],
            ["last gift created and paid at (s)", f"{load_end:.1f}"],
            [
                "backlog drained at (s)",
                f"{drain_end:.1f}" if drain_end else f"not within {DRAIN_TIMEOUT:g} s",
            ],
            ["drain after the last gift (s)", f"{drain_end - load_end:.1f}" if drain_end else "-"],
            ["creates refused after botocore's retries (donor retried)", str(run.create_refused)],
            ["webhook deliveries refused (Stripe retried)", str(run.webhook_refused)],
            ["stream records given up after retries, redriven", f"{run.given_up}, {run.redriven}"],
            ["created -> paid, p50 / p99 (s)", f"{pct(paid_lag, 50):.2f} / {pct(paid_lag, 99):.2f}"],
            ["DynamoDB requests seen by the throttle", str(throttle.requests)],
            ["requests throttled", str(sum(throttle.throttled.values()))],
        ]
        print("\n" + table_text(["figure", "value"], figures), file=out)
        print(f"\nlog: {local / 'run.log'}", file=out)
        return 0 if all(want == got for _, want, got in checks) and drain_end else 1
    finally:
        log.close()
        stack.stop()


def pct(values: list[float], p: int) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * p / 100))]


if __name__ == "__main__":
    raise SystemExit(main())
