"""The webhook event's item: written processed in the change's own transaction, conditional on
not processed before; a failed condition on it is a duplicate, whatever else failed with it.
DynamoDB Local never races two writers, so the cancellation reasons are injected here."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.dynamo import DynamoRepository
from chalicelib.adapters.dynamo_events import failed_update, processed_update
from chalicelib.domain.errors import ConcurrentUpdateError, DuplicateEventError
from chalicelib.services.facts import StripeEvent, Unknown
from tests.unit.factories import donation

GIFT = donation(amount=100).model_copy(update={"version": 1})
EVENT = StripeEvent(
    id="evt_unit_1", type="payment_intent.succeeded", raw='{"id": "evt_unit_1"}', fact=Unknown()
)
NOW = "2026-11-28T12:00:00.000Z"


@pytest.fixture
def stubbed() -> tuple[DynamoRepository, Stubber]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return DynamoRepository("steward", client), Stubber(client)


def _cancelled(stubber: Stubber, gift: str, event: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": gift}, {"Code": event}]},
    )


def _commit(repo: DynamoRepository) -> None:
    work = repo.unit_of_work()
    work.save_donation(GIFT, 0)
    work.event_processed(EVENT, NOW)
    work.commit()


@pytest.mark.parametrize("gift", ["None", "ConditionalCheckFailed"])
def test_an_event_processed_before_is_a_duplicate(stubbed, gift: str) -> None:
    repo, stubber = stubbed
    _cancelled(stubber, gift, "ConditionalCheckFailed")
    with stubber, pytest.raises(DuplicateEventError):
        _commit(repo)


def test_a_lost_version_race_alone_is_read_again(stubbed) -> None:
    repo, stubber = stubbed
    _cancelled(stubber, "ConditionalCheckFailed", "None")
    with stubber, pytest.raises(ConcurrentUpdateError):
        _commit(repo)


def test_a_lone_event_write_refused_is_a_duplicate_and_a_refused_failure_is_not_stored(stubbed) -> None:
    repo, stubber = stubbed
    stubber.add_client_error("update_item", "ConditionalCheckFailedException")
    stubber.add_client_error("update_item", "ConditionalCheckFailedException")
    with stubber:
        with pytest.raises(DuplicateEventError):
            repo.mark_event_processed(EVENT, NOW, "ignored")
        assert repo.keep_failed_event(EVENT, "UpstreamError: down", NOW) is False


def test_the_event_item_keeps_the_raw_event_and_why() -> None:
    processed = processed_update("steward", EVENT, NOW, "not ours")
    assert processed["ConditionExpression"] == "attribute_not_exists(pk) OR #processed = :false"
    values = processed["ExpressionAttributeValues"]
    assert values[":payload"] == {"S": EVENT.raw} and values[":note"] == {"S": "not ours"}
    assert values[":processed"] == {"BOOL": True}
    failed = failed_update("steward", EVENT, "x" * 5000, NOW)
    assert failed["ExpressionAttributeValues"][":processed"] == {"BOOL": False}
    assert len(failed["ExpressionAttributeValues"][":failure"]["S"]) == 1000
    assert failed["UpdateExpression"].endswith("ADD #attempts :one")
    for update in (processed, failed):  # DynamoDB refuses a name or value the expressions do not use
        expressions = update["UpdateExpression"] + update["ConditionExpression"]
        assert all(name in expressions for name in update["ExpressionAttributeNames"])
        assert all(value in expressions for value in update["ExpressionAttributeValues"])


def test_a_failed_event_is_indexed_until_it_is_processed() -> None:
    failed = failed_update("steward", EVENT, "UpstreamError: down", NOW)
    values = failed["ExpressionAttributeValues"]
    assert values[":gsi1pk"] == {"S": "EVENTS#FAILED"} and values[":gsi1sk"] == {"S": f"{NOW}#{EVENT.id}"}
    processed = processed_update("steward", EVENT, NOW)
    assert processed["UpdateExpression"].endswith("REMOVE #gsi1pk, #gsi1sk")
    assert processed["ExpressionAttributeNames"]["#gsi1pk"] == "gsi1pk"
