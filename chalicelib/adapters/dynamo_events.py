"""Stripe webhook events in the table: one item per event id (`EVENT#<id>`) holding the raw
event. It is written processed in the transaction that applies the event (or alone, when the
event changes nothing), so the effect and the dedupe mark commit together; when processing
fails it is written unprocessed with the reason, so nothing Stripe sent is lost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo_base import to_item

if TYPE_CHECKING:
    from chalicelib.services.facts import StripeEvent

# Written once processed: a new event, or one whose earlier delivery failed.
NOT_PROCESSED = "attribute_not_exists(pk) OR #processed = :false"
MAX_REASON = 1000


def _update(
    table: str, event: StripeEvent, now: str, fields: dict[str, Any], add: str = "", remove: str = ""
) -> dict[str, Any]:
    values = {"entity": "stripe_event", "type": event.type, "payload": event.raw, **fields}
    names = {f"#{name}": name for name in (*values, "received_at", "processed")}
    setting = [f"#{name} = :{name}" for name in values]
    setting.append("#received_at = if_not_exists(#received_at, :now)")
    expression = "SET " + ", ".join(setting) + (f" ADD {add}" if add else "")
    if remove:  # attribute names only, each also a name placeholder of the same name
        expression += f" REMOVE {remove}"
        names.update({name.strip(): name.strip()[1:] for name in remove.split(",")})
    placeholders = {f":{name}": value for name, value in values.items()}
    placeholders.update({":now": now, ":false": False})
    if add:
        placeholders[":one"] = 1
        names["#attempts"] = "attempts"
    return {
        "TableName": table,
        "Key": to_item(keys.stripe_event(event.id)),
        "UpdateExpression": expression,
        "ConditionExpression": NOT_PROCESSED,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_item(placeholders),
    }


def processed_update(table: str, event: StripeEvent, now: str, note: str | None = None) -> dict[str, Any]:
    """The event stored processed, unless it was processed already (the condition fails).
    `note` says why an event changed nothing (not ours, a type Steward ignores). An event that
    failed before leaves the failed events' index; its last failure stays on record."""
    fields: dict[str, Any] = {"processed": True, "processed_at": now}
    if note:
        fields["note"] = note
    return _update(table, event, now, fields, remove="#gsi1pk, #gsi1sk")


def failed_update(table: str, event: StripeEvent, reason: str, now: str) -> dict[str, Any]:
    """The event stored unprocessed with why it failed (the last failure and how many), unless
    another delivery processed it meanwhile. It is listed among the failed events (GSI1) until
    a delivery or a reconciliation processes it."""
    fields = {
        "processed": False,
        "failure": reason[:MAX_REASON],
        "failed_at": now,
        "gsi1pk": keys.EVENTS_FAILED,
        "gsi1sk": f"{now}#{event.id}",
    }
    return _update(table, event, now, fields, add="#attempts :one")
