"""Webhook throughput, sequential and with 8 workers, against bare conditional writes.

Prepares 2 x EVENTS paid gifts whose `payment_intent.succeeded` only the webhook can apply
(bench/api_events.py), then delivers their events through Chalice's Lambda handler in
worker processes (each a warm Lambda container: the app imported, one event served before
the clock starts), first with one worker, then with 8. The baseline: bare conditional
PutItems (`attribute_not_exists(pk)`, what storing an event once costs at least), as many or
at least 300, from the same number of worker processes. Checks every gift ended paid. Prints
events per second and the ratio to the bare writes. Run: .venv/bin/python
bench/webhook_throughput.py (BENCH_WEBHOOKS, default 60 per run)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_events import LambdaContext, PaidGifts, webhook_event
from common import Row, peers, record

EVENTS = int(os.environ.get("BENCH_WEBHOOKS", "60"))
WORKERS = 8
BARE_WRITES = 300
_state: dict[str, Any] = {}


def start_webhook_worker(ready: Any) -> None:
    """A warm container: the app imported and one (unknown-type) event served."""
    import app
    from tests.helpers import event

    _state["handler"] = app.app
    _state["secret"] = os.environ["STEWARD_STRIPE_WEBHOOK_SECRET"]
    deliver(event("bench.warm_up", {"id": f"warm_{uuid.uuid4().hex}", "object": "bench"}))
    with ready.get_lock():
        ready.value += 1


def deliver(payload: bytes) -> int:
    answer = _state["handler"](webhook_event(payload, _state["secret"]), LambdaContext())
    if answer["statusCode"] != 200:
        raise RuntimeError(f"webhook answered {answer['statusCode']}: {answer['body']}")
    return 1


def start_bare_worker(ready: Any) -> None:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
    _state["client"] = boto3.client(
        "dynamodb", endpoint_url=os.environ["STEWARD_DYNAMODB_ENDPOINT"], config=config
    )
    put(f"warm-{uuid.uuid4().hex}")
    with ready.get_lock():
        ready.value += 1


def put(event_id: str) -> int:
    _state["client"].put_item(
        TableName=os.environ["STEWARD_TABLE_NAME"],
        Item={"pk": {"S": f"BENCH#EVENT#{event_id}"}, "sk": {"S": "EVENT"}, "type": {"S": "bench"}},
        ConditionExpression="attribute_not_exists(pk)",
    )
    return 1


def rate(workers: int, start: Callable[[Any], None], work: Callable[[Any], int], items: list[Any]) -> float:
    """Items per second through `workers` warm processes, from the first hand-out to the last answer."""
    context = multiprocessing.get_context("spawn")
    ready = context.Value("i", 0)
    with context.Pool(workers, initializer=start, initargs=(ready,)) as pool:
        while ready.value < workers:
            time.sleep(0.05)
        started = time.perf_counter()
        done = sum(pool.map(work, items, chunksize=1))
        elapsed = time.perf_counter() - started
    if done != len(items):
        raise SystemExit(f"{done} of {len(items)} done")
    return len(items) / elapsed


def main() -> None:
    with peers(stripe=True) as stack:
        import app

        gifts = PaidGifts(app.app, stack)
        print(f"preparing {2 * EVENTS} paid gifts", flush=True)
        payloads = [gifts.make() for _ in range(2 * EVENTS)]
        print(f"webhook throughput, {EVENTS} events a run, through the Lambda handler in worker processes")
        for workers, batch in ((1, payloads[:EVENTS]), (WORKERS, payloads[EVENTS:])):
            served = rate(workers, start_webhook_worker, deliver, batch)
            writes = max(len(batch), BARE_WRITES)  # enough to time: each takes a few ms
            bare = rate(workers, start_bare_worker, put, [uuid.uuid4().hex for _ in range(writes)])
            name = "sequential" if workers == 1 else f"{workers} workers"
            print(
                f"  {name:10} {served:6.1f} events/s | bare conditional writes {bare:6.1f}/s"
                f" | ratio {served / bare:4.2f}",
                flush=True,
            )
            record(Row(f"webhook throughput, {name} (events/s)", served, bare, "/s", "", None))
        check(payloads)


def check(payloads: list[bytes]) -> None:
    """Every gift ended paid, and each event is stored once, processed."""
    from chalicelib.bootstrap import get_repository

    repo = get_repository()
    unpaid = []
    for payload in payloads:
        intent = json.loads(payload)["data"]["object"]
        gift = repo.get_donation(intent["metadata"]["donation_id"])
        if gift is None or gift.status != "succeeded" or gift.payment_intent_id != intent["id"]:
            unpaid.append(intent["metadata"]["donation_id"])
    if unpaid:
        raise SystemExit(f"{len(unpaid)} gifts not paid by their event: {unpaid[:5]}")
    print(f"  checked: all {len(payloads)} gifts paid by their event")


if __name__ == "__main__":
    main()
