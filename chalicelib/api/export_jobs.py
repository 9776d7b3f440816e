"""The export worker: its own function on the table's stream, filtered to new export jobs
(infra/resources.json), with Lambda's longest timeout, so a year of gifts never holds up
the outbox consumer's emails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, DynamoDBEvent

from chalicelib.adapters.keys import EXPORT_SK
from chalicelib.api.events import STREAM_ARN
from chalicelib.bootstrap import get_export_ports

bp = Blueprint(__name__)
# A job stops (and ends failed, with its reason) while this much time is left: enough to
# abort the upload and record the end before Lambda cuts the function off.
STOP_MARGIN_MS = 30_000


def _time_left(context: Any) -> Callable[[], bool]:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return (lambda: bool(remaining() > STOP_MARGIN_MS)) if remaining else (lambda: True)


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=1, starting_position="TRIM_HORIZON")
def export_stream(event: DynamoDBEvent) -> dict[str, Any]:
    """Run each export job the moment it is written. The job itself never raises: it ends
    done or failed; a redelivered record finds it ended and does nothing."""
    from chalicelib.services import exports

    results: list[str] = []
    for record in event:
        keys = record.keys or {}
        pk, sk = keys.get("pk", {}).get("S", ""), keys.get("sk", {}).get("S", "")
        if record.event_name == "INSERT" and pk.startswith("EXPORT#") and sk == EXPORT_SK:
            results.append(
                exports.run_export(pk.removeprefix("EXPORT#"), get_export_ports(), _time_left(event.context))
            )
    return {"exports": results}
