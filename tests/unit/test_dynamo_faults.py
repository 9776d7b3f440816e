"""Faults DynamoDB Local never raises (throttling, transaction conflicts), injected with Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.dynamo import DynamoRepository
from chalicelib.domain.errors import ConcurrentUpdateError, UpstreamError
from tests.unit.factories import donation

GIFT = donation(amount=100)


@pytest.fixture
def stubbed() -> tuple[DynamoRepository, Stubber]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return DynamoRepository("steward", client), Stubber(client)


def test_throttling_becomes_a_retryable_upstream_error(stubbed) -> None:
    repo, stubber = stubbed
    stubber.add_client_error("get_item", "ProvisionedThroughputExceededException")
    with stubber, pytest.raises(UpstreamError):
        repo.get_donation(GIFT.id)


def test_transaction_conflict_becomes_a_retryable_upstream_error(stubbed) -> None:
    repo, stubber = stubbed
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        response_meta={},
        modeled_fields={"CancellationReasons": [{"Code": "TransactionConflict"}]},
    )
    with stubber, pytest.raises(UpstreamError):
        repo.save_donation(GIFT.model_copy(update={"version": 1}), 0, audit=None)


def test_a_lost_version_race_is_a_concurrent_update(stubbed) -> None:
    repo, stubber = stubbed
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]},
    )
    with stubber, pytest.raises(ConcurrentUpdateError):
        repo.save_donation(GIFT.model_copy(update={"version": 1}), 0, audit={"source": "test"})


def test_a_conflict_on_the_card_testing_alert_still_answers_429() -> None:
    from chalicelib.adapters.dynamo_outreach import DynamoOutreachRepository
    from chalicelib.domain.errors import RateLimitedError
    from chalicelib.services.forms import DeclineGuard

    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    guard = DeclineGuard(
        DynamoOutreachRepository("steward", client), b"k", 3600, 1, "192.0.2.7", "f@example.org"
    )
    stubber = Stubber(client)
    stubber.add_client_error("update_item", "ConditionalCheckFailedException")  # the bucket is full
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}]},
    )
    with stubber, pytest.raises(RateLimitedError):
        guard.reserve()
    stubber.assert_no_pending_responses()
