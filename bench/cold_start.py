"""Cold start per route family, as whole processes, against the floor.

A: a fresh Python that imports `app` and answers one real API Gateway event through
Chalice's Lambda handler (`app.app(event, context)`) against DynamoDB Local and localstripe,
with AWS_LAMBDA_INITIALIZATION_TYPE=on-demand in its environment, as Lambda sets it for an
on-demand cold start.
B, the floor: a fresh Python that runs `import boto3`, makes the DynamoDB client and does one
PutItem; for donation and webhook also `import stripe` and the one Stripe call the route
makes (donation: create a SetupIntent; webhook: the charge with its balance transaction).
A and B alternate (A B, B A, ...), PAIRS pairs per family, after one warm-up pair and with
the app's bytecode compiled first (as the libraries' is); each is timed from spawn to exit.
Prints each median, their ratio and the median of the pairs' ratios, and the same for CPU
time (user + system, from the child's resource usage): on a shared machine the wall time
swings with the other work, the CPU time much less.
Run: .venv/bin/python bench/cold_start.py (BENCH_COLD_PAIRS, default 9). With
BENCH_FLOOR_GC=paused the floor pauses its garbage collector too, as the app does on an
on-demand cold start (chalicelib/collector.py): a stricter floor.
"""

from __future__ import annotations

import compileall
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_events import FAMILIES, PaidGifts, simple_events, webhook_event
from common import ROOT, Row, alternate, median, paired_ratio, peers, record

PAIRS = int(os.environ.get("BENCH_COLD_PAIRS", "9"))
TARGETS = {"donation": 1.10, "webhook": 1.10}  # the rest: 1.15
FLOOR_GC_PAUSED = os.environ.get("BENCH_FLOOR_GC") == "paused"

# What the deployed package holds, not this virtualenv: aiohttp is here only for localstripe (a
# dev peer), and `import stripe` takes it when it is installed (about 110 ms). Both sides go
# without it, as on Lambda.
AS_PACKAGED = 'import sys\nsys.modules["aiohttp"] = None\n'

SERVE = (
    AS_PACKAGED
    + """
import json, sys
event = json.load(sys.stdin)
import app
class Context:
    aws_request_id = "cold-start"
    function_name = "steward-dev"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:steward-dev"
    def get_remaining_time_in_millis(self):
        return 25000
answer = app.app(event, Context())
print(answer["statusCode"])
"""
)

FLOOR = (
    AS_PACKAGED
    + """
import os, sys
import boto3
client = boto3.client("dynamodb", endpoint_url=os.environ["STEWARD_DYNAMODB_ENDPOINT"])
client.put_item(
    TableName=os.environ["STEWARD_TABLE_NAME"],
    Item={"pk": {"S": "BENCH#FLOOR#" + sys.argv[1]}, "sk": {"S": "FLOOR"}},
)
"""
)

STRIPE_CALL = """
import stripe
stripe_client = stripe.StripeClient(
    os.environ["STEWARD_STRIPE_SECRET_KEY"], base_addresses={"api": os.environ["STEWARD_STRIPE_API_BASE"]}
)
"""
FLOOR_SETUP_INTENT = (
    FLOOR
    + STRIPE_CALL
    + 'stripe_client.v1.setup_intents.create({"usage": "on_session", "payment_method_types": ["card"]})\n'
)
FLOOR_CHARGE = (
    FLOOR
    + STRIPE_CALL
    + 'stripe_client.v1.charges.retrieve(sys.argv[2], {"expand": ["balance_transaction"]})\n'
)


CPU: list[float] = []  # the CPU seconds of each process timed, in order


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    command: list[str], stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[float, str]:
    """Seconds from spawn to exit of a fresh interpreter, and what it printed; its CPU
    seconds go to CPU (the peers are children too, but only ended children count)."""
    cpu = _cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, input=stdin, capture_output=True, text=True, check=False, env=env
    )
    elapsed = time.perf_counter() - started
    CPU.append(_cpu_of_children() - cpu)
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout.strip()


def serve(event: dict[str, Any]) -> float:
    lambda_env = {**os.environ, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}
    elapsed, printed = timed([sys.executable, "-c", SERVE], json.dumps(event), lambda_env)
    status = printed.splitlines()[-1] if printed else ""  # the status; the app's JSON log lines come first
    if not status.startswith("2"):
        raise SystemExit(f"{event['httpMethod']} {event['path']} answered {status}")
    return elapsed


def floor(code: str, *args: str) -> float:
    if FLOOR_GC_PAUSED:
        code = "import gc\ngc.disable()\n" + code
    return timed([sys.executable, "-c", code, uuid.uuid4().hex, *args])[0]


def split_cpu(pairs: int) -> tuple[list[float], list[float]]:
    """The CPU seconds of the last `pairs` alternating pairs, as (A's, B's)."""
    last = CPU[-2 * pairs :]
    served = [last[2 * n] if n % 2 == 0 else last[2 * n + 1] for n in range(pairs)]
    floors = [last[2 * n + 1] if n % 2 == 0 else last[2 * n] for n in range(pairs)]
    return served, floors


def charge_of(payload: bytes) -> str:
    charge = json.loads(payload)["data"]["object"]["latest_charge"]
    return str(charge["id"] if isinstance(charge, dict) else charge)


def main() -> None:
    compileall.compile_dir(ROOT / "chalicelib", quiet=1)
    compileall.compile_file(ROOT / "app.py", quiet=1)
    with peers(stripe=True) as stack:
        import app

        env = stack.app_env()
        events = simple_events(env)
        print(f"preparing {PAIRS} paid gifts for the webhook runs", flush=True)
        gifts = PaidGifts(app.app, stack)
        payloads = [gifts.make() for _ in range(PAIRS)]
        charge = charge_of(payloads[0])
        secret = env["STEWARD_STRIPE_WEBHOOK_SECRET"]
        runs: dict[str, tuple[Callable[[], float], Callable[[], float]]] = {
            family: (lambda make=make: serve(make()), lambda: floor(FLOOR)) for family, make in events.items()
        }
        runs["donation"] = (runs["donation"][0], lambda: floor(FLOOR_SETUP_INTENT))
        runs["webhook"] = (
            lambda: serve(webhook_event(payloads.pop(), secret)),
            lambda: floor(FLOOR_CHARGE, charge),
        )
        print(f"cold start, whole processes, median of {PAIRS} alternating pairs (after a warm-up pair)")
        for number, family in enumerate(FAMILIES):
            a, b = runs[family]
            if number == 0:
                alternate(a, b, 1)  # compiled bytecode and the OS file cache, for both
            served, floors = alternate(a, b, PAIRS)
            report(family, served, floors, *split_cpu(PAIRS))


def report(
    family: str, served: list[float], floors: list[float], served_cpu: list[float], floors_cpu: list[float]
) -> None:
    a_ms, b_ms = median(served) * 1000, median(floors) * 1000
    a_cpu, b_cpu = median(served_cpu) * 1000, median(floors_cpu) * 1000
    limit = TARGETS.get(family, 1.15)
    floor_name = "floor + stripe" if family in TARGETS else "floor"
    floor_name += ", gc paused" if FLOOR_GC_PAUSED else ""
    print(
        f"  {family:9} {a_ms:7.0f} ms | {floor_name:26} {b_ms:7.0f} ms | ratio {a_ms / b_ms:4.2f}"
        f" (median of pair ratios {paired_ratio(served, floors):4.2f}) | target <= {limit:.2f}"
        f" | CPU {a_cpu:5.0f} ms vs {b_cpu:5.0f} ms, ratio {a_cpu / b_cpu:4.2f}",
        flush=True,
    )
    record(Row(f"cold start: {family} vs {floor_name}", a_ms, b_ms, "ms", f"<= {limit:.2f}x", limit))
    record(Row(f"cold start CPU: {family} vs {floor_name}", a_cpu, b_cpu, "ms", f"<= {limit:.2f}x", limit))


if __name__ == "__main__":
    main()
