"""Event handlers: the outbox consumer on the table's stream, and the retry sweep."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, Cron, DynamoDBEvent, Rate

from chalicelib.bootstrap import get_mailer, get_outreach_repository, get_signup_rules

bp = Blueprint(__name__)
log = logging.getLogger("steward")
# Replaced at deploy by the table's real stream ARN (see infra/resources.json).
STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/steward/stream/set-by-infra-resources-json"
# No new send starts with less time left than one send may take when the mail server hangs
# (SMTP: 10 s; SES: 2 attempts of 2 s connect + 5 s read). What is not sent stays pending and
# due, so the next sweep sends it; the invocation is never killed while it holds a lease.
SEND_BUDGET_MS = 15_000


def _time_left(context: Any) -> Callable[[], bool]:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return (lambda: bool(remaining() > SEND_BUDGET_MS)) if remaining else (lambda: True)


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=25, starting_position="TRIM_HORIZON")
def outbox_stream(event: DynamoDBEvent) -> dict[str, Any]:
    """Send each email the moment its outbox item is written. An email that fails never
    raises here: it is retried by the sweep or marked failed. Only a table failure raises;
    the event source then bisects the batch, retries it a bounded number of times and sends
    what is left to its on-failure queue (infra/resources.json), so no record stalls a shard."""
    from chalicelib.services import outbox

    sent = 0
    time_left = _time_left(event.context)
    for record in event:
        keys = record.keys or {}
        pk = keys.get("pk", {}).get("S", "")
        if record.event_name == "INSERT" and pk.startswith("OUTBOX#") and time_left():
            message_id = keys["pk"]["S"].removeprefix("OUTBOX#")
            sent += outbox.deliver(message_id, repo=get_outreach_repository(), mailer=get_mailer())
        pending_signups(record.event_name, keys)
    return {"sent": sent}


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def totals_stream(event: DynamoDBEvent) -> dict[str, Any]:
    """Keep the finance totals up to date from each new image of a gift, a batch at a time:
    each cell takes the batch's summed change once (services/totals_batch.py). Replays and
    records out of order change nothing twice; a table failure raises, and the event source
    bisects and retries the batch (infra/resources.json); a record that cannot be applied
    raises after the rest of the batch is, so it ends alone in the on-failure queue."""
    from chalicelib.bootstrap import get_totals_store
    from chalicelib.services.totals_batch import apply_gift_images

    images = [
        record.new_image
        for record in event
        if record.event_name in ("INSERT", "MODIFY") and record.new_image and is_gift(record.keys or {})
    ]
    return {"totals_applied": apply_gift_images(images, get_totals_store())}


def is_gift(keys: dict[str, Any]) -> bool:
    return bool(
        keys.get("pk", {}).get("S", "").startswith("DONATION#") and keys.get("sk", {}).get("S") == "DONATION"
    )


def pending_signups(event_name: str | None, keys: dict[str, Any]) -> None:
    """A stored signup request: look the address up and queue its confirmation email, behind
    the answer, so the answer's timing says nothing about who is on the list."""
    from chalicelib.services import signups

    pk = keys.get("pk", {}).get("S", "")
    if event_name != "INSERT" or not pk.startswith("SIGNUP#"):
        return
    signup_id = pk.removeprefix("SIGNUP#")
    try:
        signups.process_signup(signup_id, repo=get_outreach_repository(), rules=get_signup_rules())
    except Exception:  # one bad request never stalls the stream; signup_sweep retries it
        log.exception("signup request %s left for the sweep", signup_id)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def signup_sweep(event: Any) -> dict[str, Any]:
    """Handle the signup requests the stream could not."""
    from chalicelib.services import signups

    return {"handled": signups.process_received(repo=get_outreach_repository(), rules=get_signup_rules())}


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def outbox_sweep(event: Any) -> dict[str, Any]:
    """Retry emails whose send failed, once their wait is over."""
    from chalicelib.services import outbox

    return {
        "sent": outbox.deliver_due(
            repo=get_outreach_repository(), mailer=get_mailer(), keep_going=_time_left(event.context)
        )
    }


@bp.schedule(Rate(15, unit=Rate.MINUTES))
def donation_sweep(event: Any) -> dict[str, Any]:
    """Mark gifts left pending abandoned (after 24 h, or 1 h without a SetupIntent)."""
    from chalicelib.bootstrap import get_gift_mail, get_payments, get_repository
    from chalicelib.services.abandon import sweep_abandoned

    return sweep_abandoned(repo=get_repository(), payments=get_payments(), mail=get_gift_mail())


# Mid-January, once a day for a week: each run queues what the last one left (a donor who has
# a statement for the year is skipped), so a year of donors fits in however many runs it takes.
@bp.schedule(Cron(0, 15, "15-21", 1, "?", "*"))
def giving_statements(event: Any) -> dict[str, Any]:
    """Send last year's giving statement to every donor."""
    from datetime import UTC, datetime

    from chalicelib.bootstrap import get_gift_mail, get_repository
    from chalicelib.services.statements import send_statements

    year = datetime.now(UTC).year - 1
    run = send_statements(
        year, repo=get_repository(), mail=get_gift_mail(), keep_going=_time_left(event.context)
    )
    return {"year": year, "sent": run.sent, "already_sent": run.already_sent, "left": run.left}
