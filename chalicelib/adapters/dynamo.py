"""The DynamoDB repository. ClientErrors become named domain errors here."""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any, TypeVar, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from chalicelib.adapters import cursors, keys
from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import (
    ConcurrentUpdateError,
    ConflictError,
    UpstreamError,
    ValidationFailedError,
)
from chalicelib.services.clock import epoch_seconds
from chalicelib.services.ports import DonationPage, IdempotencyRecord, Repository, StoredEvent

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger("steward")
GSI1 = "gsi1"
PENDING_INDEX = "gsi2"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# Queries one list page may make: the filter on abandoned gifts (and empty months) can leave
# query after query empty; past this the page ends early and its cursor goes on from there.
QUERIES_PER_PAGE = 10
RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "InternalServerError",
    "ServiceUnavailable",
}
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def reasons(exc: ClientError) -> list[str]:
    return [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])]


def translate(exc: ClientError) -> Exception:
    if error_code(exc) in RETRYABLE or "TransactionConflict" in reasons(exc):
        return UpstreamError("the database is busy; retry")
    return cast(Exception, exc)


def translate_list(exc: ClientError, cursor: str | None) -> Exception:
    """A list query's error. DynamoDB's ValidationException means it refused the query or
    its start key: a 422 (naming the cursor when there was one), never a 500."""
    if error_code(exc) != "ValidationException":
        return translate(exc)
    log.warning("a list query was refused: %s", exc)
    if cursor:
        return cursors.bad_cursor()
    return ValidationFailedError(
        "the database refused this query", fields=[{"field": "query", "message": "refused"}]
    )


def guarded(call: Any, **kwargs: Any) -> Any:
    """Run a client call; a connection failure becomes UpstreamError, like throttling."""
    try:
        return call(**kwargs)
    except BotoCoreError as exc:
        raise UpstreamError("the database did not answer; retry") from exc


def model_from(model: type[M], item: dict[str, Any]) -> M:
    """A pydantic model from a DynamoDB item (numbers come back as Decimal)."""
    values = from_item(item)
    fields = model.model_fields
    return model.model_validate(
        {k: int(v) if isinstance(v, Decimal) else v for k, v in values.items() if k in fields}
    )


def _donation_from(item: dict[str, Any]) -> Donation:
    return model_from(Donation, item)


class DynamoRepository(Repository):
    def __init__(self, table_name: str, boto3_client: Any) -> None:
        self.table = table_name
        self.client = boto3_client

    def ping(self) -> None:
        self._get_raw({"pk": "HEALTH", "sk": "HEALTH"})

    # -- donations -----------------------------------------------------------------

    def _donation_put(self, donation: Donation) -> dict[str, Any]:
        values = donation.model_dump()
        values.update(keys.donation(donation.id))
        values["gsi1pk"] = keys.donations_by_month(donation.created_at)
        values["gsi1sk"] = keys.donation_sort(donation.created_at, donation.id)
        values["entity"] = "donation"
        if donation.status == "pending":
            values["gsi2pk"] = keys.pending_donations(donation.setup_intent_id is not None)
            values["gsi2sk"] = values["gsi1sk"]
        return {"TableName": self.table, "Item": to_item(values)}

    def _audit_put(self, donation: Donation, audit: dict[str, str], suffix: str) -> dict[str, Any]:
        values: dict[str, Any] = dict(audit)
        values.update(keys.donation_audit(donation.id, donation.updated_at, suffix))
        values.update(entity="audit", at=donation.updated_at, version=donation.version)
        return {"Put": {"TableName": self.table, "Item": to_item(values)}}

    def create_donation(self, donation: Donation, idempotency: IdempotencyRecord | None) -> None:
        put = self._donation_put(donation)
        put["ConditionExpression"] = "attribute_not_exists(pk)"
        items: list[dict[str, Any]] = [
            {"Put": put},
            self._audit_put(
                donation, {"source": "api", "actor": "donor", "to_status": donation.status}, "created"
            ),
        ]
        if idempotency:
            record = keys.idempotency(idempotency.key_hash)
            record.update(
                request_hash=idempotency.request_hash,
                donation_id=idempotency.donation_id,
                expires_at=epoch_seconds(donation.created_at) + IDEMPOTENCY_TTL_SECONDS,
            )
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(record),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            guarded(self.client.transact_write_items, TransactItems=items)
        except ClientError as exc:
            if "ConditionalCheckFailed" in reasons(exc):
                raise ConflictError("this Idempotency-Key is already in use") from exc
            raise translate(exc) from exc

    def get_idempotency(self, key_hash: str) -> IdempotencyRecord | None:
        values = self._get(keys.idempotency(key_hash))
        if values is None:
            return None
        return IdempotencyRecord(key_hash, str(values["request_hash"]), str(values["donation_id"]))

    def get_donation(self, donation_id: str) -> Donation | None:
        response = self._get_raw(keys.donation(donation_id))
        return _donation_from(response) if response else None

    def save_donation(
        self,
        donation: Donation,
        expected_version: int,
        *,
        audit: dict[str, str] | None,
        event_id: str | None = None,
    ) -> None:
        put = self._donation_put(donation)
        put["ConditionExpression"] = "version = :expected"
        put["ExpressionAttributeValues"] = to_item({":expected": expected_version})
        items: list[dict[str, Any]] = [{"Put": put}]
        if audit:
            items.append(self._audit_put(donation, audit, event_id or f"v{donation.version}"))
        for stripe_id in (donation.payment_intent_id, donation.charge_id):
            if stripe_id:
                link = keys.stripe_link(stripe_id)
                link["donation_id"] = donation.id
                items.append({"Put": {"TableName": self.table, "Item": to_item(link)}})
        if event_id:
            items.append({"Update": self._event_processed(event_id, donation.updated_at)})
        try:
            guarded(self.client.transact_write_items, TransactItems=items)
        except ClientError as exc:
            if reasons(exc)[:1] == ["ConditionalCheckFailed"]:
                raise ConcurrentUpdateError("the gift changed since it was read") from exc
            raise translate(exc) from exc

    def donation_id_for(self, stripe_id: str) -> str | None:
        values = self._get(keys.stripe_link(stripe_id))
        return str(values["donation_id"]) if values else None

    def pending_donations(self, has_setup: bool, created_before: str, limit: int) -> list[Donation]:
        try:
            response = guarded(
                self.client.query,
                TableName=self.table,
                IndexName=PENDING_INDEX,
                KeyConditionExpression="gsi2pk = :pending AND gsi2sk < :before",
                ExpressionAttributeValues=to_item(
                    {":pending": keys.pending_donations(has_setup), ":before": created_before}
                ),
                Limit=limit,
            )
        except ClientError as exc:
            raise translate(exc) from exc
        return [_donation_from(item) for item in response.get("Items", [])]

    def list_donations(
        self, start: str, end: str, limit: int, cursor: str | None, *, include_abandoned: bool = False
    ) -> DonationPage:
        scope = {"list": "donations", "from": start, "to": end, "abandoned": str(include_abandoned)}
        first, last = start[:7], end[:7]
        month, last_key = first, None
        if cursor:
            data = cursors.decode(cursor, scope)
            month = str(data.get("m"))
            if not (MONTH.fullmatch(month) and first <= month <= last):
                raise cursors.bad_cursor()
            if data.get("k") is not None:
                partition = keys.donations_by_month(month)
                last_key = cursors.start_key(data["k"], partition, keys.donation, (start, end))
        items: list[Donation] = []
        queries = 0
        while month <= last and len(items) < limit and queries < QUERIES_PER_PAGE:
            queries += 1
            query: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": GSI1,
                "Limit": limit - len(items),
                "KeyConditionExpression": "gsi1pk = :month AND gsi1sk BETWEEN :start AND :end",
                "ExpressionAttributeValues": to_item(
                    {
                        ":month": f"DONATIONS#{month}",
                        ":start": start,
                        ":end": end,
                    }
                ),
            }
            if last_key:
                query["ExclusiveStartKey"] = last_key
            if not include_abandoned:
                query["FilterExpression"] = "#status <> :abandoned"
                query["ExpressionAttributeNames"] = {"#status": "status"}
                query["ExpressionAttributeValues"][":abandoned"] = {"S": "abandoned"}
            try:
                response = guarded(self.client.query, **query)
            except ClientError as exc:
                raise translate_list(exc, cursor) from exc
            items.extend(_donation_from(item) for item in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if last_key is None:
                month = _next_month(month)
        if last_key is not None:
            return DonationPage(items, cursors.encode(scope, m=month, k=last_key))
        return DonationPage(items, cursors.encode(scope, m=month, k=None) if month <= last else None)

    # -- webhook events ------------------------------------------------------------

    def put_event(self, event_id: str, event_type: str, raw: str, received_at: str) -> StoredEvent:
        record = keys.stripe_event(event_id)
        record.update(
            entity="stripe_event", type=event_type, payload=raw, received_at=received_at, processed=False
        )
        if not put_new(self.client, self.table, record):
            stored = self._get(keys.stripe_event(event_id)) or {}
            return StoredEvent(event_id, bool(stored.get("processed")))
        return StoredEvent(event_id, False)

    def _event_processed(self, event_id: str, now: str) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Key": to_item(keys.stripe_event(event_id)),
            "UpdateExpression": "SET #processed = :true, processed_at = :now",
            "ExpressionAttributeNames": {"#processed": "processed"},
            "ExpressionAttributeValues": to_item({":true": True, ":now": now}),
        }

    def mark_event_processed(self, event_id: str, now: str) -> None:
        try:
            guarded(self.client.update_item, **self._event_processed(event_id, now))
        except ClientError as exc:
            raise translate(exc) from exc

    # -- helpers -------------------------------------------------------------------

    def _get_raw(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return get_item(self.client, self.table, key)

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self._get_raw(key)
        return from_item(item) if item else None


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def put_new(client: Any, table: str, values: dict[str, Any]) -> bool:
    """PutItem of an item that must not exist yet; False (not an error) when it does."""
    try:
        guarded(
            client.put_item,
            TableName=table,
            Item=to_item(values),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate(exc) from exc
    return True


def conditional_update(client: Any, **request: Any) -> bool:
    """UpdateItem; False (not an error) when its condition does not hold."""
    try:
        guarded(client.update_item, **request)
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate(exc) from exc
    return True


def get_item(client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """A consistent read of one item, in DynamoDB's typed form."""
    try:
        response = guarded(client.get_item, TableName=table, Key=to_item(key), ConsistentRead=True)
    except ClientError as exc:
        raise translate(exc) from exc
    item: dict[str, Any] | None = response.get("Item")
    return item
