"""Signup timing: does POST /signups answer a confirmed address as fast as an unknown one?

Starts its own local stack (in-memory DynamoDB Local, chalice local, stream poller, SMTP
sink) on free ports, signs up and confirms one address, then sends interleaved pairs of
signups (the confirmed address, a fresh one; the order alternates) and prints the median of
each and their ratio, measured in the same run. A ratio near 1.00 means the answer's timing
does not tell who is on the list. Run: make bench
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.stack import Stack  # noqa: E402
from tests.helpers import Mailbox, link  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from common import Row, peers, record  # noqa: E402

PAIRS = 40
# The local stream poller shares this machine's CPU; on AWS the consumer runs in its own
# Lambda. Pausing between requests keeps one request's background work off the next answer.
PAUSE_SECONDS = 0.6


def timed_signup(session: requests.Session, url: str, email: str, token: str) -> float:
    body = json.dumps({"email": email, "form_token": token, "name": "Bench"})
    started = time.perf_counter()
    answer = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    elapsed = time.perf_counter() - started
    if answer.status_code != 202:
        raise SystemExit(f"signup answered {answer.status_code}: {answer.text}")
    return elapsed


def main() -> None:
    with peers(full=True) as stack:  # rate limits out of reach: every request is from one IP
        measure(stack)


def measure(stack: Stack) -> None:
    session = requests.Session()
    api = stack.config.api_url
    token = session.get(f"{api}/config", timeout=30).json()["form_token"]
    time.sleep(2.1)  # past the time trap
    known = f"known-{uuid.uuid4().hex[:8]}@example.org"
    timed_signup(session, f"{api}/signups", known, token)
    confirm_url = link(Mailbox(stack).wait_to(known)[0], "/signups/confirm")
    session.post(confirm_url, data={"token": confirm_url.split("token=")[1]}, timeout=30).raise_for_status()

    for _ in range(5):  # warm up both paths
        timed_signup(session, f"{api}/signups", known, token)
        timed_signup(session, f"{api}/signups", f"warm-{uuid.uuid4().hex[:8]}@example.org", token)
    known_times, unknown_times, unknown_slower = [], [], 0
    for pair in range(PAIRS):
        unknown = f"new-{uuid.uuid4().hex[:8]}@example.org"
        order = [(known, known_times), (unknown, unknown_times)]
        for email, times in order if pair % 2 == 0 else reversed(order):
            time.sleep(PAUSE_SECONDS)
            times.append(timed_signup(session, f"{api}/signups", email, token))
        unknown_slower += unknown_times[-1] > known_times[-1]
    known_ms, unknown_ms = statistics.median(known_times) * 1000, statistics.median(unknown_times) * 1000
    print(f"confirmed address: {known_ms:7.1f} ms  (median of {PAIRS})")
    print(f"unknown address:   {unknown_ms:7.1f} ms  (median of {PAIRS})")
    print(f"ratio unknown/confirmed: {unknown_ms / known_ms:5.2f}")
    print(f"unknown slower in {unknown_slower}/{PAIRS} pairs ({unknown_slower * 100 // PAIRS}%)")
    record(
        Row("POST /signups: unknown vs confirmed address", unknown_ms, known_ms, "ms", "about 1.00x", None)
    )


if __name__ == "__main__":
    main()
