"""DynamoDB helpers every repository shares. ClientErrors become named domain errors here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import is_dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters import cursors, keys
from chalicelib.domain.errors import UpstreamError, ValidationFailedError
from chalicelib.domain.records import field_names

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib.services.outreach_ports import Page

M = TypeVar("M")  # a pydantic model or a plain record (a dataclass)
log = logging.getLogger("steward")
GSI1 = "gsi1"
RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "InternalServerError",
    "ServiceUnavailable",
}
# Why DynamoDB cancels a transaction that may pass when tried again: another transaction on
# the same item, or an item over its partition's (or its provisioned) rate. botocore retries
# none of them: TransactionCanceledException is not a throttling error to it.
RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
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
    if error_code(exc) in RETRYABLE or RETRYABLE_REASONS.intersection(reasons(exc)):
        return UpstreamError("the database is busy; retry")
    return cast(Exception, exc)


def translate_list(exc: ClientError, cursor: str | None) -> Exception:
    """A list query's error. DynamoDB's ValidationException means it refused the query or
    its start key: a 422 (naming the cursor when there was one), never a 500."""
    if error_code(exc) != "ValidationException":
        return translate(exc)
    log.warning("a list query was refused (%s)", error_code(exc))  # its text may quote the key
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
    """A pydantic model, or a plain record (a dataclass, taken as stored), from a DynamoDB
    item; numbers become int. Strings, numbers, booleans and nulls are read directly
    (TypeDeserializer is the slow part of reading a long page), anything else through the
    deserializer."""
    if is_dataclass(model):
        names = _record_fields(model)
        try:
            return model(**{k: _plain(v) for k, v in item.items() if k in names})
        except TypeError as exc:  # refused where it is read: say which item, and which field
            where = " ".join(str(item.get(name, {}).get("S")) for name in ("pk", "sk"))
            log.warning("stored item %s not read: %s", where, exc)  # names a field, never a value
            raise
    pydantic_model = cast("type[BaseModel]", model)
    fields = pydantic_model.model_fields
    return cast(M, pydantic_model.model_validate({k: _plain(v) for k, v in item.items() if k in fields}))


@cache
def _record_fields(record: type) -> frozenset[str]:
    return frozenset(field_names(record))


def _plain(value: dict[str, Any]) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        text = value["N"]
        try:
            return int(text)
        except ValueError:
            return int(Decimal(text))
    if "BOOL" in value:
        return bool(value["BOOL"])
    if "NULL" in value:
        return None
    plain = _deserializer.deserialize(value)
    return int(plain) if isinstance(plain, Decimal) else plain


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


def query_index(
    client: Any,
    table: str,
    partition: str,
    limit: int,
    cursor: str | None,
    model: Any,
    forward: bool,
    record: Callable[[str], keys.Key],
) -> Page:
    scope = {"index": partition}
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": GSI1,
        "Limit": limit,
        "ScanIndexForward": forward,
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": partition}),
    }
    if cursor:
        query["ExclusiveStartKey"] = cursors.start_key(
            cursors.decode(cursor, scope).get("k"), partition, record
        )
    try:
        response = guarded(client.query, **query)
    except ClientError as exc:
        raise translate_list(exc, cursor) from exc
    last = response.get("LastEvaluatedKey")
    from chalicelib.services.outreach_ports import Page

    return Page(
        [model_from(model, item) for item in response.get("Items", [])],
        cursors.encode(scope, k=last) if last else None,
    )
