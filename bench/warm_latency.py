"""Warm latency per route, and the round trips each request makes.

In one process with the app imported and warm: each request is an API Gateway event handed
to Chalice's Lambda handler (`app.app(event, context)`), against DynamoDB Local and
localstripe. The DynamoDB and Stripe calls it made are recorded (botocore event hooks, and
stripe-python's HTTP client) and replayed bare right after it (bench/calls.py): the same
calls, with nothing of the app around them. Prints p50 and p99 of each and the p50 ratio
(target <= 1.25), and the round trips per request: DynamoDB HTTP requests (contact 1, signup
at most 2, webhook at most 2) and Stripe requests. Each request is followed by its replay
(a replay cannot come first), so requests and replays interleave.
Run: .venv/bin/python bench/warm_latency.py (BENCH_WARM_REQUESTS, default 50)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_events import FAMILIES, LambdaContext, PaidGifts, simple_events, webhook_event
from calls import Calls, Recorder, Replayer
from common import Row, peers, percentile, record

REQUESTS = int(os.environ.get("BENCH_WARM_REQUESTS", "50"))
WARMUP = 5
ROUND_TRIP_TARGETS = {"contact": 1, "signup": 2, "webhook": 2}
P50_TARGET = 1.25


class Bench:
    def __init__(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]], stack: Any) -> None:
        from chalicelib.bootstrap import _dynamodb_client, get_settings

        self.handler = handler
        self.recorder = Recorder(_dynamodb_client())
        settings = get_settings()
        self.replayer = Replayer(settings.dynamodb_endpoint, settings.table_name)

    def request(self, event: dict[str, Any]) -> tuple[float, Calls]:
        self.recorder.take()
        started = time.perf_counter()
        answer = self.handler(event, LambdaContext())
        elapsed = time.perf_counter() - started
        if not str(answer["statusCode"]).startswith("2"):
            route = f"{event['httpMethod']} {event['path']}"
            raise SystemExit(f"{route}: {answer['statusCode']} {answer['body']}")
        return elapsed, self.recorder.take()

    def replay(self, calls: Calls) -> float:
        started = time.perf_counter()
        self.replayer.replay(calls)
        return time.perf_counter() - started

    def mirror(self) -> None:
        """Setup writes (a gift prepared for the webhook) reach the twin table too."""
        self.replayer.replay(self.recorder.take(), stripe_calls=False)


def main() -> None:
    with peers(stripe=True) as stack:
        import app

        bench = Bench(app.app, stack)
        env = stack.app_env()
        makers = simple_events(env)
        gifts = PaidGifts(app.app, stack)
        secret = env["STEWARD_STRIPE_WEBHOOK_SECRET"]
        print(f"preparing {REQUESTS + WARMUP} paid gifts for the webhook requests", flush=True)
        payloads = []
        for _ in range(REQUESTS + WARMUP):
            bench.recorder.take()
            payloads.append(gifts.make())
            bench.mirror()
        makers["webhook"] = lambda: webhook_event(payloads.pop(), secret)
        print(f"warm, in process through the Lambda handler: {REQUESTS} requests per route")
        for family in FAMILIES:
            measure(bench, family, makers[family])
        if bench.replayer.drift:
            print(f"note: {bench.replayer.drift} replayed DynamoDB calls ended unlike the originals")


def stripe_path(url: str) -> str:
    """`http://host/v1/charges/ch_123?expand...` -> `/v1/charges/{id}`."""
    path = "/v1/" + url.split("/v1/", 1)[-1].split("?")[0]
    return "/".join("{id}" if _is_id(part) else part for part in path.split("/"))


def _is_id(part: str) -> bool:
    """`ch_PjMNi9kAxorntB` is an id; `setup_intents` is not."""
    return "_" in part and any(c.isdigit() or c.isupper() for c in part)


def measure(bench: Bench, family: str, make: Callable[[], dict[str, Any]]) -> None:
    served: list[float] = []
    bare: list[float] = []
    dynamodb: list[int] = []
    stripe_calls: list[int] = []
    operations: list[str] = []
    for number in range(WARMUP + REQUESTS):
        elapsed, calls = bench.request(make())
        replayed = bench.replay(calls)
        if number >= WARMUP:
            served.append(elapsed)
            bare.append(replayed)
            dynamodb.append(calls.dynamodb_sends)
            stripe_calls.append(len(calls.stripe))
            operations = [name for name, _, _ in calls.dynamodb] + [
                f"Stripe {method.upper()} {stripe_path(url)}" for method, url, _, _ in calls.stripe
            ]
    a50, a99 = percentile(served, 50) * 1000, percentile(served, 99) * 1000
    b50, b99 = percentile(bare, 50) * 1000, percentile(bare, 99) * 1000
    if not operations:  # no I/O to replay: nothing to compare with
        b50 = b99 = 0.0
    ratio = f"{a50 / b50:5.2f}" if b50 > 0 else "  -  "
    trips, stripes = max(dynamodb), max(stripe_calls)
    print(
        f"  {family:9} p50 {a50:6.1f} ms p99 {a99:6.1f} ms | bare calls p50 {b50:6.1f} ms p99 {b99:6.1f} ms"
        f" | p50 ratio {ratio} | round trips: DynamoDB {trips}, Stripe {stripes}"
        + ("" if min(dynamodb) == trips else f" (DynamoDB from {min(dynamodb)})"),
        flush=True,
    )
    print(f"  {'':9} calls: {', '.join(operations) or 'none'}")
    if b50 > 0:
        record(Row(f"warm p50: {family} vs its calls bare", a50, b50, "ms", f"<= {P50_TARGET}x", P50_TARGET))
        record(Row(f"warm p99: {family} vs its calls bare", a99, b99, "ms", "", None))
    else:
        record(Row(f"warm p50: {family} (no I/O)", a50, None, "ms", "", None))
        record(Row(f"warm p99: {family} (no I/O)", a99, None, "ms", "", None))
    trip_limit = ROUND_TRIP_TARGETS.get(family)
    record(
        Row(
            f"round trips: {family} (DynamoDB)",
            trips,
            None,
            "calls",
            f"<= {trip_limit}" if trip_limit else "",
            trip_limit,
            kind="count",
        )
    )
    if stripes:
        record(Row(f"round trips: {family} (Stripe)", stripes, None, "calls", "", None, kind="count"))


if __name__ == "__main__":
    main()
