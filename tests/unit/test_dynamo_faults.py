"""Faults DynamoDB Local never raises (throttling, transaction conflicts), injected with Stubber."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.dynamo import DynamoRepository
from chalicelib.adapters.dynamo_outreach import DynamoOutreachRepository
from chalicelib.adapters.keys import FIND_SHARDS
from chalicelib.domain.errors import ConcurrentUpdateError, UpstreamError, ValidationFailedError
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
        _save(repo, GIFT.model_copy(update={"version": 1}), 0)


@pytest.mark.parametrize("reason", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_a_transaction_cancelled_by_throttling_is_a_retryable_upstream_error(stubbed, reason: str) -> None:
    # DynamoDB cancels a transaction whose item is over its partition's rate with this reason
    # (botocore does not retry TransactionCanceledException): a 503 to a donor, a non-2xx that
    # Stripe retries, and an event `steward reconcile` reports and moves past, never a crash.
    repo, stubber = stubbed
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": reason}, {"Code": "None"}]},
    )
    with stubber, pytest.raises(UpstreamError):
        _save(repo, GIFT.model_copy(update={"version": 1}), 0)


def test_a_lost_version_race_is_a_concurrent_update(stubbed) -> None:
    repo, stubber = stubbed
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]},
    )
    with stubber, pytest.raises(ConcurrentUpdateError):
        _save(repo, GIFT.model_copy(update={"version": 1}), 0)


def test_a_conflict_on_the_card_testing_alert_still_answers_429() -> None:
    from chalicelib.adapters.dynamo_outreach import DynamoOutreachRepository
    from chalicelib.domain.errors import RateLimitedError
    from chalicelib.domain.tokens import Keyring, MasterKey
    from chalicelib.services.forms import DeclineGuard

    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    guard = DeclineGuard(
        DynamoOutreachRepository("steward", client),
        Keyring(MasterKey("k1", b"m" * 32), b"i" * 32),
        3600,
        1,
        "192.0.2.7",
        "f@example.org",
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


def _query_page(key: dict[str, dict[str, str]], items: list[object]) -> dict[str, object]:
    return {"Items": items, "Count": len(items), "ScannedCount": len(items), "LastEvaluatedKey": key}


def test_a_list_query_refused_by_dynamodb_is_a_422_never_a_500(stubbed) -> None:
    repo, stubber = stubbed
    start, end = "2026-11-01T00:00:00.000Z", "2026-11-30T23:59:59.999Z~"
    gift = f"2026-11-02T00:00:00.000Z#{GIFT.id}"
    key = {
        "pk": {"S": f"DONATION#{GIFT.id}"},
        "sk": {"S": "DONATION"},
        "gsi1pk": {"S": "DONATIONS#2026-11#00"},
        "gsi1sk": {"S": gift},
    }
    stubber.add_response("query", _query_page(key, [repo._donation_put(GIFT)["Item"]]))
    for _ in range(FIND_SHARDS):  # the month's other shards and its key from before sharding
        stubber.add_response("query", {"Items": [], "Count": 0, "ScannedCount": 0})
    stubber.add_client_error("query", "ValidationException", "The provided starting key is invalid")
    stubber.add_client_error("query", "ValidationException", "Query condition missed key schema element")
    with stubber:
        cursor = repo.list_donations(start, end, 1, None).cursor
        assert cursor
        with pytest.raises(ValidationFailedError) as refused:
            repo.list_donations(start, end, 1, cursor)
        assert refused.value.fields == [{"field": "cursor", "message": "invalid cursor"}]
        with pytest.raises(ValidationFailedError):
            repo.list_donations(start, end, 1, None)


def test_a_contacts_query_refused_by_dynamodb_is_a_422(stubbed) -> None:
    repo, stubber = stubbed
    outreach = DynamoOutreachRepository("steward", repo.client)
    key = {
        "pk": {"S": "CONTACT#01ARZ3NDEKTSV4RRFFQ69G5FAV"},
        "sk": {"S": "CONTACT"},
        "gsi1pk": {"S": "CONTACTS#media#new"},
        "gsi1sk": {"S": "2026-11-02T00:00:00.000Z#01ARZ3NDEKTSV4RRFFQ69G5FAV"},
    }
    stubber.add_response("query", _query_page(key, []))
    stubber.add_client_error("query", "ValidationException", "The provided starting key is invalid")
    with stubber:
        cursor = outreach.list_contacts("media", "new", 1, None).cursor
        assert cursor
        with pytest.raises(ValidationFailedError) as refused:
            outreach.list_contacts("media", "new", 1, cursor)
        assert refused.value.fields[0]["field"] == "cursor"


def _save(repo: DynamoRepository, gift: Any, expected: int) -> None:
    work = repo.unit_of_work()
    work.save_donation(gift, expected)
    work.commit()
