"""DynamoDB calls over many items at once: consistent BatchGetItem (with its unprocessed keys
read again), and a TransactWriteItems whose cancellation says which items were refused."""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo_base import error_code, guarded, reasons, to_item, translate
from chalicelib.domain.errors import UpstreamError, WriteRefusedError

BATCH_GET_KEYS = 100  # DynamoDB's limit on one BatchGetItem
ATTEMPTS = 6
Owner = TypeVar("Owner", bound=Hashable)


def get_many(
    client: Any, table: str, wanted: list[keys.Key], attributes: tuple[str, ...] = ()
) -> dict[tuple[str, str], dict[str, Any]]:
    """Each item found (typed form) by (pk, sk), read consistently; `attributes` besides the
    key, or the whole item."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(wanted), BATCH_GET_KEYS):
        request: dict[str, Any] = {"Keys": [to_item(k) for k in wanted[start : start + BATCH_GET_KEYS]]}
        request["ConsistentRead"] = True
        if attributes:
            request["ProjectionExpression"] = ", ".join(f"#{n}" for n in ("pk", "sk", *attributes))
            request["ExpressionAttributeNames"] = {f"#{n}": n for n in ("pk", "sk", *attributes)}
        left: dict[str, Any] = {table: request}
        for attempt in range(ATTEMPTS):
            try:
                response = guarded(client.batch_get_item, RequestItems=left)
            except ClientError as exc:
                raise translate(exc) from exc
            for item in response.get("Responses", {}).get(table, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            left = response.get("UnprocessedKeys") or {}
            if not left:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise UpstreamError("the database left keys unread; retry")
    return found


def transact(client: Any, items: list[dict[str, Any]], owners: Sequence[Owner | None]) -> set[Owner] | None:
    """One TransactWriteItems. None when it committed; when DynamoDB cancelled it on a
    condition, the owners (owners[i] names items[i]) of the items whose condition failed; an
    empty set when it met another transaction. Throttling raises UpstreamError; a refusal a
    retry will not change raises WriteRefusedError."""
    try:
        guarded(client.transact_write_items, TransactItems=items)
    except ClientError as exc:
        codes = reasons(exc)
        failed = {owners[i] for i, code in enumerate(codes) if code == "ConditionalCheckFailed"}
        if failed:
            return {owner for owner in failed if owner is not None}
        if "TransactionConflict" in codes:
            return set()
        busy = translate(exc)  # throttled, or cancelled for a reason a retry may clear
        if isinstance(busy, UpstreamError):
            raise busy from exc
        raise WriteRefusedError(f"{error_code(exc)}: {', '.join(c for c in codes if c != 'None')}") from exc
    return None
