"""Signup requests handled behind the answer: a failure is left for the sweep, and one bad
request never stalls the stream."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from chalice.test import Client

from chalicelib.adapters.dynamo_outreach import DynamoOutreachRepository
from chalicelib.bootstrap import _dynamodb_client, get_signup_rules
from chalicelib.domain.errors import UpstreamError
from chalicelib.domain.outreach import Subscriber
from chalicelib.domain.outreach_forms import SignupForm
from chalicelib.services import signups
from chalicelib.services.forms import now_ms
from devstack import table
from devstack.stack import Stack

LATER = "2999-01-01T00:00:00.000Z"


class SubscriberWritesFail(DynamoOutreachRepository):
    """The real repository, except that every subscriber write fails as in an outage."""

    def save_subscriber(self, subscriber: Subscriber, expected_version: int | None, **kwargs: Any) -> None:
        raise UpstreamError("injected: DynamoDB unavailable")


def test_a_request_the_stream_could_not_handle_is_handled_by_the_sweep(stack: Stack) -> None:
    # A table of its own: no stream poller races this test for the request.
    name = f"sweep-{uuid.uuid4().hex[:8]}"
    table.ensure_table(stack.dynamodb_client(), name)
    repo = DynamoOutreachRepository(name, _dynamodb_client())
    rules = get_signup_rules()
    email = f"sweep-{uuid.uuid4().hex[:8]}@example.org"
    from chalicelib.domain.tokens import form_token

    request = SignupForm(email=email, form_token=form_token(rules.form.keys, now_ms() - 5000), name="Ines")
    signups.subscribe(request, "198.51.100.7", repo=repo, rules=rules)
    [signup_id] = repo.received_signups(LATER, 10)

    failing = SubscriberWritesFail(name, _dynamodb_client())
    try:
        signups.process_signup(signup_id, repo=failing, rules=rules)
    except UpstreamError:
        pass
    else:
        raise AssertionError("the injected fault did not fire")
    assert repo.received_signups(LATER, 10) == [signup_id]  # nothing half-done, still waiting
    assert repo.received_signups("2000-01-01T00:00:00.000Z", 10) == []  # the sweep waits a minute

    broken = {"pk": {"S": "SIGNUP#broken"}, "sk": {"S": "SIGNUP"}, "status": {"S": "received"}}
    broken |= {"gsi1pk": {"S": "SIGNUPS#RECEIVED"}, "gsi1sk": {"S": "2000-01-01T00:00:00.000Z#broken"}}
    _dynamodb_client().put_item(TableName=name, Item=broken)  # first in line, and unreadable

    assert signups.process_received(repo=repo, rules=rules, now=lambda: LATER) == 1
    assert repo.received_signups(LATER, 10) == []  # it waits before its next attempt
    assert repo.received_signups("2999-01-01T00:01:00.000Z", 10) == ["broken"]
    stored = repo.get_pending_signup(signup_id)
    assert stored is not None and stored.status == "sent"
    assert signups.process_received(repo=repo, rules=rules, now=lambda: LATER) == 0  # once only


def test_one_bad_signup_request_never_stalls_the_stream(stack: Stack) -> None:
    from app import app

    bad_id = uuid.uuid4().hex
    _dynamodb_client().put_item(
        TableName=stack.config.table_name,
        Item={"pk": {"S": f"SIGNUP#{bad_id}"}, "sk": {"S": "SIGNUP"}, "status": {"S": "received"}},
    )
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_800_000_000,
            "Keys": {"pk": {"S": f"SIGNUP#{bad_id}"}, "sk": {"S": "SIGNUP"}},
            "SequenceNumber": "1",
            "SizeBytes": 10,
            "StreamViewType": "KEYS_ONLY",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/steward/stream/x",
    }
    with Client(app) as client:
        answer = client.lambda_.invoke("outbox_stream", {"Records": [record]})
    assert answer.payload == {"sent": 0}


class _DropFirstAnswer:
    """A real HTTP proxy in front of DynamoDB Local that forwards the first PutItem of a
    signup request and then drops its answer, as a network does when the write landed and
    the response was lost. botocore then retries the same write (the
    request with its rate-limit counts, one transaction)."""

    def __init__(self, upstream: str) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        target = urlsplit(upstream)
        self.dropped = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                upstream_conn.request("POST", self.path, body, headers)
                answer = upstream_conn.getresponse()
                data = answer.read()
                upstream_conn.close()
                operation = self.headers.get("X-Amz-Target", "")
                write = operation.endswith((".PutItem", ".TransactWriteItems"))
                put = write and b"SIGNUP#" in body
                if put and proxy.dropped == 0:
                    proxy.dropped += 1
                    self.close_connection = True  # written, but no answer comes back
                    return
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_signup_whose_answer_was_lost_in_transit_is_still_accepted(stack: Stack) -> None:
    import boto3
    from botocore.config import Config

    from chalicelib.domain.tokens import form_token

    name = f"lost-{uuid.uuid4().hex[:8]}"
    table.ensure_table(stack.dynamodb_client(), name)
    proxy = _DropFirstAnswer(stack.config.dynamodb_url)
    try:
        client = boto3.client(  # as bootstrap builds it, through the proxy
            "dynamodb",
            endpoint_url=proxy.url,
            config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}),
        )
        repo = DynamoOutreachRepository(name, client)
        rules = get_signup_rules()
        email = f"lost-{uuid.uuid4().hex[:8]}@example.org"
        request = SignupForm(email=email, form_token=form_token(rules.form.keys, now_ms() - 5000))
        signups.subscribe(request, "198.51.100.8", repo=repo, rules=rules)  # answered 202, not 409
        assert proxy.dropped == 1
        assert len(repo.received_signups(LATER, 10)) == 1  # stored once
    finally:
        proxy.close()


class AnotherSignupLandsFirst(DynamoOutreachRepository):
    """The real repository; just before the first confirmation is written, another request of
    the same address is handled (a real write that bumps the subscriber's version)."""

    raced = False

    def save_subscriber(self, subscriber: Subscriber, expected_version: int | None, **kwargs: Any) -> None:
        if kwargs.get("event") == "confirmed" and not self.raced:
            self.raced = True
            current = self.get_subscriber(subscriber.id)
            assert current is not None
            bumped = current.model_copy(
                update={"sends_count": current.sends_count + 1, "version": current.version + 1}
            )
            super().save_subscriber(bumped, current.version, event="signup")
        super().save_subscriber(subscriber, expected_version, **kwargs)


def test_a_confirmation_racing_another_signup_of_the_address_still_confirms(stack: Stack) -> None:
    from chalicelib.adapters.dynamo import from_item
    from chalicelib.domain.tokens import email_id, form_token

    name = f"race-{uuid.uuid4().hex[:8]}"
    table.ensure_table(stack.dynamodb_client(), name)
    repo = DynamoOutreachRepository(name, _dynamodb_client())
    rules = get_signup_rules()
    email = f"race-{uuid.uuid4().hex[:8]}@example.org"
    request = SignupForm(email=email, form_token=form_token(rules.form.keys, now_ms() - 5000), name="Ada")
    signups.subscribe(request, "198.51.100.9", repo=repo, rules=rules)
    [signup_id] = repo.received_signups(LATER, 10)
    assert signups.process_signup(signup_id, repo=repo, rules=rules)
    [outbox_id] = repo.due_outbox(LATER, 10)
    item = _dynamodb_client().get_item(
        TableName=name, Key={"pk": {"S": f"OUTBOX#{outbox_id}"}, "sk": {"S": "OUTBOX"}}
    )["Item"]
    token = str(from_item(item)["context"]["confirm_url"]).split("token=")[1]

    racing = AnotherSignupLandsFirst(name, _dynamodb_client())
    confirmed = signups.confirm(token, repo=racing)
    assert racing.raced and confirmed.status == "confirmed"
    stored = repo.get_subscriber(email_id(rules.form.keys, email))
    assert stored is not None and (stored.status, stored.name) == ("confirmed", "Ada")


def test_a_request_that_always_fails_is_retried_a_bounded_number_of_times_then_failed(stack: Stack) -> None:
    """As for outbox email: a request the sweep cannot handle waits longer each time, and ends
    `failed` after the cap instead of being taken again every minute, forever, at the head of
    the queue."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.services.clock import format_time

    name = f"poison-{uuid.uuid4().hex[:8]}"
    table.ensure_table(stack.dynamodb_client(), name)
    repo = DynamoOutreachRepository(name, _dynamodb_client())
    rules = get_signup_rules()
    broken = {"pk": {"S": "SIGNUP#broken"}, "sk": {"S": "SIGNUP"}, "status": {"S": "received"}}
    broken |= {"gsi1pk": {"S": "SIGNUPS#RECEIVED"}, "gsi1sk": {"S": "2000-01-01T00:00:00.000Z#broken"}}
    _dynamodb_client().put_item(TableName=name, Item=broken)  # unreadable: it can never be handled

    start = datetime(2030, 1, 1, tzinfo=UTC)
    for day in range(30):  # a sweep a day: every wait is over by the next one
        signups.process_received(
            repo=repo, rules=rules, now=lambda d=day: format_time(start + timedelta(days=d))
        )
    assert repo.received_signups(LATER, 10) == []
    item = _dynamodb_client().get_item(
        TableName=name, Key={"pk": {"S": "SIGNUP#broken"}, "sk": {"S": "SIGNUP"}}
    )
    assert item["Item"]["status"]["S"] == "failed"
    assert int(item["Item"]["attempts"]["N"]) == signups.SWEEP_ATTEMPTS
    assert item["Item"]["last_error"]["S"]


@dataclass
class Unsubscribed:
    """An address that signed up, asked again, then unsubscribed (at 10:06) before the stream
    applied that second request (`sent_before`), in a table of its own."""

    repo: DynamoOutreachRepository
    rules: Any
    email: str
    subscriber_id: str
    sent_before: str = ""

    def request_at(self, timestamp: str) -> str:
        from chalicelib.domain.tokens import form_token

        keys = self.rules.form.keys
        request = SignupForm(email=self.email, form_token=form_token(keys, now_ms() - 5000))
        before = set(self.repo.received_signups(LATER, 50))
        signups.subscribe(request, "198.51.100.8", repo=self.repo, rules=self.rules, now=lambda: timestamp)
        [signup_id] = set(self.repo.received_signups(LATER, 50)) - before
        return signup_id

    def process(self, signup_id: str, timestamp: str) -> bool:
        return signups.process_signup(signup_id, repo=self.repo, rules=self.rules, now=lambda: timestamp)

    def status(self) -> Subscriber:
        subscriber = self.repo.get_subscriber(self.subscriber_id)
        assert subscriber is not None
        return subscriber


def _unsubscribed_with_a_request_pending(stack: Stack) -> Unsubscribed:
    from chalicelib.domain.tokens import email_id, unsubscribe_token

    name = f"late-{uuid.uuid4().hex[:8]}"
    table.ensure_table(stack.dynamodb_client(), name)
    rules = get_signup_rules()
    email = f"{name}@example.org"
    case = Unsubscribed(
        DynamoOutreachRepository(name, _dynamodb_client()), rules, email, email_id(rules.form.keys, email)
    )
    assert case.process(case.request_at("2030-01-01T10:00:00.000Z"), "2030-01-01T10:00:01.000Z")
    case.sent_before = case.request_at("2030-01-01T10:05:00.000Z")
    token = unsubscribe_token(rules.form.keys, case.subscriber_id)
    signups.unsubscribe(token, repo=case.repo, rules=rules, now=lambda: "2030-01-01T10:06:00.000Z")
    return case


def test_a_request_sent_before_an_unsubscribe_does_not_reopen_the_address(stack: Stack) -> None:
    # The stream may apply a signup after an unsubscribe the person sent later: the later
    # decision stands. A request sent after the unsubscribe is a new decision and is handled.
    case = _unsubscribed_with_a_request_pending(stack)

    assert not case.process(case.sent_before, "2030-01-01T10:07:00.000Z")
    assert case.status().status == "unsubscribed"
    skipped = case.repo.get_pending_signup(case.sent_before)
    assert skipped is not None and skipped.status == "skipped"

    sent_after = case.request_at("2030-01-01T10:08:00.000Z")
    assert case.process(sent_after, "2030-01-01T10:08:01.000Z")
    assert case.status().status == "pending"


def test_a_request_sent_before_an_unsubscribe_stays_skipped_after_a_later_request_reopened_it(
    stack: Stack,
) -> None:
    # Unsubscribed, then asked again: the stream applies the new request first and the one sent
    # before the unsubscribe last. That one must not mail a second link whose confirmation
    # would record the withdrawn request as the consent.
    case = _unsubscribed_with_a_request_pending(stack)
    sent_after = case.request_at("2030-01-01T10:08:00.000Z")
    assert case.process(sent_after, "2030-01-01T10:08:01.000Z")

    assert not case.process(case.sent_before, "2030-01-01T10:09:00.000Z")
    skipped = case.repo.get_pending_signup(case.sent_before)
    assert skipped is not None and skipped.status == "skipped"
    subscriber = case.status()
    assert subscriber.status == "pending" and subscriber.sends_count == 2
