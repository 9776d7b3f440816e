"""A peer that stops answering (paused, not down): each request still gets its 503 in our
shape before the Lambda timeout, instead of API Gateway's bare 504 after the function is
killed. The fault is real: the running peer is paused with SIGSTOP."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from chalice.local import LambdaContext

from chalicelib.services.clock import utc_now
from chalicelib.services.ports import OutreachRepository
from devstack.stack import Stack
from devstack.stream_poller import scheduled_event
from tests.helpers import CARD_OK, GIFT, Api, confirm_card_setup, wait_for

LAMBDA_TIMEOUT = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "config.json").read_text())[
    "lambda_timeout"
]


@contextmanager
def paused(stack: Stack, name: str) -> Iterator[None]:
    pids = [process.pid for piece, process, _ in stack.processes if piece == name]
    assert pids, name
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def _post_within_lambda_timeout(url: str) -> requests.Response:
    try:
        return requests.post(url, json={}, timeout=LAMBDA_TIMEOUT)
    except requests.ReadTimeout:
        pytest.fail(f"no answer within the {LAMBDA_TIMEOUT} s Lambda timeout")


def test_a_stalled_stripe_gets_503_before_the_lambda_timeout(api: Api, stack: Stack) -> None:
    created = api.post("/donations", GIFT)
    assert created.status_code == 201, created.text
    body = created.json()
    assert confirm_card_setup(stack, body["client_secret"], CARD_OK).status_code == 200
    confirm_url = f"{api.base}/donations/{body['donation_id']}/confirm"

    with paused(stack, "localstripe"):
        answer = _post_within_lambda_timeout(confirm_url)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "unavailable"

    retried = api.post(f"/donations/{body['donation_id']}/confirm", {})  # Stripe is back: the same gift
    assert retried.status_code == 200 and retried.json()["status"] == "succeeded", retried.text


def _outbox_status(stack: Stack, message_id: str) -> str:
    item = stack.dynamodb_client().get_item(  # type: ignore[attr-defined]
        TableName=stack.config.table_name, Key={"pk": {"S": f"OUTBOX#{message_id}"}, "sk": {"S": "OUTBOX"}}
    )["Item"]
    return str(item["status"]["S"])


def test_a_hung_mail_server_never_keeps_the_outbox_sweep_past_the_lambda_timeout(
    api: Api, stack: Stack, outreach: OutreachRepository
) -> None:
    """The sweep stops starting sends while it still has the time to finish one; what it did
    not reach stays pending and due, and is sent once the server answers again."""
    from app import app

    stack.stop_process("poller")  # nothing else sends these emails meanwhile
    try:
        for _ in range(2):  # each message: one to the program, one acknowledgement
            answer = api.post(
                "/contact",
                {
                    "email": f"stall-{uuid.uuid4().hex[:8]}@example.org",
                    "form_token": GIFT["form_token"],
                    "name": "Grace",
                    "topic": "other",
                    "subject": "A question",
                    "message": "Hello",
                },
            )
            assert answer.status_code == 202, answer.text
        due = outreach.due_outbox(utc_now(), 50)
        assert len(due) >= 4
        with paused(stack, "smtp"):
            started = time.monotonic()
            app.handler_map["outbox_sweep"](
                scheduled_event(), LambdaContext("outbox_sweep", 256, max_runtime_ms=LAMBDA_TIMEOUT * 1000)
            )
            elapsed = time.monotonic() - started
        assert elapsed < LAMBDA_TIMEOUT, f"the sweep ran {elapsed:.0f} s"
        assert all(_outbox_status(stack, message_id) == "pending" for message_id in due)
    finally:
        stack._spawn("poller", [sys.executable, "-m", "devstack.stream_poller"], None, env=stack.app_env())
    wait_for(lambda: all(_outbox_status(stack, m) == "sent" for m in due), timeout=90)
