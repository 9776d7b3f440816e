"""Signup requests under faults DynamoDB Local never raises, injected with Stubber."""

from __future__ import annotations

from dataclasses import asdict

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.dynamo import to_item
from chalicelib.adapters.dynamo_outreach import DynamoOutreachRepository
from chalicelib.domain.errors import UpstreamError
from chalicelib.domain.outreach_records import PendingSignup
from chalicelib.domain.tokens import Keyring, MasterKey
from chalicelib.services.forms import FormRules
from chalicelib.services.signups import SignupRules, process_signup

SIGNUP = PendingSignup(
    id="01SIGNUP",
    subscriber_id="a" * 64,
    email="reader@example.org",
    name="Rosa",
    ip_hmac="b" * 64,
    created_at="2026-11-28T00:00:00.000Z",
)
RULES = SignupRules(
    FormRules(Keyring(MasterKey("k1", b"m" * 32), b"i" * 32), 2, 3600, 20, 5), "http://api", 3
)


@pytest.fixture
def stubbed() -> tuple[DynamoOutreachRepository, Stubber]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return DynamoOutreachRepository("steward", client), Stubber(client)


def signup_item(status: str) -> dict[str, object]:
    return {"Item": to_item({**asdict(SIGNUP), "status": status, "pk": "SIGNUP#x", "sk": "SIGNUP"})}


def test_storing_a_request_while_throttled_is_a_retryable_upstream_error(stubbed) -> None:
    repo, stubber = stubbed
    stubber.add_client_error("put_item", "ProvisionedThroughputExceededException")
    with stubber, pytest.raises(UpstreamError):
        repo.create_pending_signup(SIGNUP)


def test_a_request_handled_meanwhile_by_another_worker_sends_nothing_more(stubbed) -> None:
    repo, stubber = stubbed
    stubber.add_response("get_item", signup_item("received"))
    stubber.add_response("get_item", {})  # no subscriber yet
    stubber.add_client_error(  # the other worker moved the request first
        "transact_write_items",
        "TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": "ConditionalCheckFailed"}]},
    )
    stubber.add_response("get_item", signup_item("sent"))
    with stubber:
        assert process_signup(SIGNUP.id, repo=repo, rules=RULES) is False
    stubber.assert_no_pending_responses()


def test_a_transaction_conflict_leaves_the_request_for_the_sweep(stubbed) -> None:
    repo, stubber = stubbed
    stubber.add_response("get_item", signup_item("received"))
    stubber.add_response("get_item", {})
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": "TransactionConflict"}]},
    )
    with stubber, pytest.raises(UpstreamError):
        process_signup(SIGNUP.id, repo=repo, rules=RULES)
