"""What the functions log while real traffic goes through the suite's stack: every line is one
JSON object, each business outcome is logged exactly once (a replayed webhook adds none), and
no address, name, message text, token, secret or card number appears anywhere.

The API and the stream poller run as their own processes (devstack/stack.py) at the levels
chalicelib/logs.py configures; everything they write goes to the stack's log files, which
this test reads from where they stood when it began."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib.bootstrap import get_settings
from chalicelib.domain.tokens import email_id
from chalicelib.logs import JsonFormatter
from devstack.smtp_sink import REJECTED_DOMAIN
from devstack.stack import Stack
from devstack.stream_poller import scheduled_event
from tests.helpers import (
    CARD_DECLINED_AT_CHARGE,
    CARD_OK,
    GIFT,
    Api,
    Mailbox,
    event,
    give,
    link,
    sign,
    wait_for,
)
from tests.integration.test_disputes import lifecycle
from tests.integration.test_mail import _outbox
from tests.integration.test_refunds import deliver, post_refund, staff_view
from tests.stripe_events import refund as refund_event

LOGS = ("api", "poller")


def _offsets(stack: Stack) -> dict[str, int]:
    return {name: (stack.log_dir / f"{name}.log").stat().st_size for name in LOGS}


def _written_since(stack: Stack, offsets: dict[str, int]) -> list[str]:
    lines: list[str] = []
    for name in LOGS:
        with Path(stack.log_dir / f"{name}.log").open("rb") as file:
            file.seek(offsets[name])
            lines += file.read().decode("utf-8", "replace").splitlines()
    return lines


def _events(lines: list[str]) -> list[dict[str, Any]]:
    """The business-event log lines (not their metric lines, which have `_aws`)."""
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    return [p for p in parsed if p.get("event") and "_aws" not in p]


def test_the_suite_s_traffic_logs_each_outcome_once_and_no_personal_data(
    api: Api, stack: Stack, token: Any, form_token: str, mailbox: Mailbox
) -> None:
    tag = uuid.uuid4().hex[:10]
    donor = f"logs-donor-{tag}@example.org"
    first, last = f"Logfirst{tag}", f"Loglast{tag}"
    offsets = _offsets(stack)

    # A paid gift, a declined one, a refund (then Stripe's word on it, twice), a dispute.
    paid_id, answer = give(api, stack, CARD_OK, email=donor, first_name=first, last_name=last)
    assert answer.json()["status"] == "succeeded", answer.text
    declined_id, answer = give(
        api, stack, CARD_DECLINED_AT_CHARGE, email=f"logs-declined-{tag}@example.org", first_name=first
    )
    assert answer.json()["status"] == "failed", answer.text
    refunded = post_refund(api, token, paid_id, {"amount": 1000, "reason": "requested_by_customer"})
    assert refunded.status_code == 201, refunded.text
    refund = refunded.json()
    gift = staff_view(api, token, paid_id)
    word = refund_event(
        stack.webhook_secret,
        charge_id=gift["charge_id"],
        refund_id=refund["stripe_refund_id"],
        payment_intent_id=gift["payment_intent_id"],
        amount=1000,
        metadata={"donation_id": paid_id, "refund_id": refund["id"]},
    )
    for _ in range(2):
        deliver(api, word)
    opened, reviewed, closed = lifecycle(stack, gift, "won", int(time.time()) + 86400, older=False)
    for signed in (opened, reviewed, closed, opened, closed):
        deliver(api, signed)

    # Webhooks refused: a wrong signature, a stale one, and a signed body that is no event.
    body = event("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    refusals = {
        "bad_signature": (body, sign(body, "whsec_wrong")),
        "stale": (body, sign(body, stack.webhook_secret, int(time.time()) - 3600)),
        "unparseable": (b"not json", sign(b"not json", stack.webhook_secret)),
    }
    for payload, signature in refusals.values():
        answer = api.post("/webhooks/stripe", raw=payload, headers={"Stripe-Signature": signature})
        assert answer.status_code == 400, answer.text

    # A signup confirmed, and a contact whose acknowledgement the mail server refuses.
    reader = f"logs-reader-{tag}@example.org"
    assert api.post("/signups", {"email": reader, "name": first, "form_token": form_token}).status_code == 202
    confirm_url = link(mailbox.wait_to(reader)[0], "/signups/confirm")
    signup_token = confirm_url.split("token=")[1]
    confirmed = requests.post(confirm_url, data={"token": signup_token, "confirm": "yes"}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    visitor = f"logs-visitor-{tag}@{REJECTED_DOMAIN}"
    text = f"Logmessage{tag} about the clinics"
    subject = f"Logsubject{tag}"
    contact = {"name": f"{first} {last}", "email": visitor, "topic": "media", "subject": subject}
    assert api.post("/contact", {**contact, "message": text, "form_token": form_token}).status_code == 202
    admin = token("admin")
    [failed] = wait_for(lambda: [i for i in _outbox(api, admin, "failed").values() if i["to"] == visitor], 30)
    time.sleep(4)  # a sweep or two later: anything logged twice would show
    lines = _written_since(stack, offsets)

    # Every line the functions wrote is one JSON object. The poller's own lines (what it invoked,
    # what the handler answered: Lambda's event source mapping writes nothing in its stead) are
    # not the functions'; none of them may hand a record to the on-failure list.
    assert [line for line in lines if line.startswith("stream on-failure")] == []
    driver = re.compile(r"^(stream|\w+_sweep) [{\w]")
    assert lines and [line for line in lines if not line.startswith("{") and not driver.match(line)] == []
    # No address, name, text, token, secret or card number in any of them.
    env = stack.app_env()
    private = [
        donor,
        reader,
        visitor,
        first,
        last,
        text,
        subject,
        signup_token,
        form_token,
        CARD_OK,
        CARD_DECLINED_AT_CHARGE,
        env["STEWARD_STRIPE_SECRET_KEY"],
        stack.webhook_secret,
        env["STEWARD_SIGNING_KEY"],
        env["STEWARD_IDENTITY_KEY"],
        "@example.org",
        "@" + REJECTED_DOMAIN,
    ]
    everything = "\n".join(lines)
    assert [p for p in private if p in everything] == []

    events = _events(lines)

    def count(name: str, **fields: Any) -> int:
        return sum(1 for e in events if e["event"] == name and all(e.get(k) == v for k, v in fields.items()))

    assert count("gift_succeeded", donation_id=paid_id, amount=2500, currency="usd") == 1
    assert count("gift_failed", donation_id=declined_id) == 1
    assert count("gift_succeeded", donation_id=declined_id) == count("gift_failed", donation_id=paid_id) == 0
    assert count("refund_created", donation_id=paid_id, refund_id=refund["id"]) == 1
    assert count("refund_succeeded", donation_id=paid_id, refund_id=refund["id"], amount=1000) == 1
    assert count("dispute_opened", donation_id=paid_id) == 1
    assert count("dispute_closed", donation_id=paid_id, outcome="won") == 1
    subscriber = email_id(get_settings().keys, reader)
    assert count("signup_confirmed", subscriber_id=subscriber) == 1
    assert count("contact_received", topic="media") == 1
    for reason in refusals:
        assert count("webhook_rejected", reason=reason) == 1, reason
    assert count("mail_failed", outbox_id=failed["id"]) == 1
    # each event line names its request and function; an API route's its API Gateway request
    assert all(e["request_id"] and e["function"] for e in events)
    assert all(e.get("api_request_id") for e in events if e["event"] == "contact_received")
    # and each is counted once as a metric
    metrics = [json.loads(line) for line in lines if '"_aws"' in line]
    for name in ("gift_succeeded", "dispute_opened", "mail_failed", "webhook_rejected"):
        assert sum(1 for m in metrics if m["event"] == name) == sum(1 for e in events if e["event"] == name)


class Everything(logging.Handler):
    """Every record that reaches the root logger, whatever its level, formatted as Lambda writes it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.formatter_ = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.formatter_.format(record))


def test_in_process_every_record_at_our_levels_is_free_of_personal_data(
    stack: Stack, form_token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same handlers in this process through Chalice's test client: a handler on the root
    logger at DEBUG sees each record our levels let through (botocore's and urllib3's too,
    were they emitted), and the metric lines on stdout are read as well."""
    from app import app

    tag = uuid.uuid4().hex[:10]
    email, name, text = f"logs-inproc-{tag}@example.org", f"Inproc{tag}", f"Inprocmessage{tag}"
    catcher = Everything()
    logging.getLogger().addHandler(catcher)
    try:
        with Client(app) as client:
            headers = {"Content-Type": "application/json"}
            contact = {"name": name, "email": email, "topic": "media", "subject": "Hi", "message": text}
            answer = client.http.post(
                "/contact", headers=headers, body=json.dumps({**contact, "form_token": form_token})
            )
            assert answer.status_code == 202, answer.body
            body = json.dumps({"email": email, "name": name, "form_token": form_token})
            assert client.http.post("/signups", headers=headers, body=body).status_code == 202
            gift = {**GIFT, "email": email, "first_name": name, "last_name": name}
            created = client.http.post("/donations", headers=headers, body=json.dumps(gift))
            assert created.status_code == 201, created.body
            refused = client.http.post(
                "/webhooks/stripe",
                headers={**headers, "Stripe-Signature": sign(b"{}", "whsec_wrong")},
                body=b"{}",
            )
            assert refused.status_code == 400
            client.lambda_.invoke("outbox_sweep", scheduled_event())
    finally:
        logging.getLogger().removeHandler(catcher)
    printed = capsys.readouterr().out
    everything = "\n".join(catcher.lines) + printed
    events = [json.loads(line) for line in catcher.lines if '"event"' in line]
    assert [e["event"] for e in events] == ["contact_received", "webhook_rejected"]
    assert all(e["request_id"] and e["function"] for e in events)
    assert [p for p in (email, name, text, form_token, stack.webhook_secret) if p in everything] == []


def test_an_address_in_a_path_is_not_in_the_access_line(api: Api, stack: Stack, token: Any) -> None:
    """A donor's history is read at /staff/donors/{email}: the local server's access line names
    the route, as API Gateway's access log does ($context.resourcePath), never the address; a
    path no route matches is not written out either."""
    tag = uuid.uuid4().hex[:10]
    address = f"logs-path-{tag}@example.org"
    offsets = _offsets(stack)
    assert api.get(f"/staff/donors/{address}", token("finance")).status_code == 200
    assert api.get(f"/staff/donors/{tag}-not-an-address", token("finance")).status_code == 422
    assert api.get(f"/staff/donor/{address}", token("finance")).status_code == 404
    time.sleep(0.5)
    access = [json.loads(line) for line in _written_since(stack, offsets) if "steward.local_server" in line]
    assert [a["message"] for a in access] == [
        "GET /staff/donors/{email} 200",
        "GET /staff/donors/{email} 422",
        "GET - 404",
    ]
    assert [a for a in access if tag in a["message"]] == []
