"""Business events: one log line with the field `event` and safe ids for each outcome, and one
count of it in CloudWatch's embedded metric format (EMF), a JSON line on stdout that CloudWatch
turns into the metric Steward/Events with the event as its dimension."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from chalicelib.logs import LOGGER, function_name, request_id

NAMESPACE = "Steward"
METRIC = "Events"
# The only fields a business event may carry: ids we made or Stripe made, states, amounts in
# minor units with their currency, and reasons from a fixed list. Anything else is dropped.
SAFE_FIELDS = frozenset(
    {
        "donation_id",
        "recurring_id",
        "refund_id",
        "dispute_id",
        "outcome",
        "status",
        "amount",
        "currency",
        "subscriber_id",
        "contact_id",
        "topic",
        "outbox_id",
        "reason",
        "source",
    }
)
EVENTS = (
    "gift_succeeded",
    "gift_failed",
    "refund_created",
    "refund_succeeded",
    "refund_failed",
    "dispute_opened",
    "dispute_closed",
    "signup_confirmed",
    "contact_received",
    "webhook_rejected",
    "mail_failed",
)

log = logging.getLogger(LOGGER)


def emf_line(event: str, timestamp_ms: int | None = None) -> dict[str, Any]:
    """One count of `event` in CloudWatch's embedded metric format: metric Steward/Events with
    the event as its only dimension (a function dimension would multiply the custom metrics)."""
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["event"]],
                    "Metrics": [{"Name": METRIC, "Unit": "Count"}],
                }
            ],
        },
        "event": event,
        METRIC: 1,
        "function": function_name(),
        "request_id": request_id(),
    }


def business_event(
    event: str, message: str, level: int = logging.INFO, /, **fields: str | int | None
) -> None:
    """Log one outcome with its safe fields, and count it as a metric."""
    safe = {key: value for key, value in fields.items() if key in SAFE_FIELDS and value is not None}
    log.log(level, message, extra={"event": event, "fields": safe})
    sys.stdout.write(json.dumps(emf_line(event)) + "\n")
    sys.stdout.flush()
