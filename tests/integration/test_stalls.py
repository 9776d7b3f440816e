"""A peer that stops answering (paused, not down): each request still gets its 503 in our
shape before the Lambda timeout, instead of API Gateway's bare 504 after the function is
killed. The fault is real: the running peer is paused with SIGSTOP."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from devstack.stack import Stack
from tests.helpers import CARD_OK, GIFT, Api, confirm_card_setup

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
