"""The outbox sweep: one item the table will not take never holds up the others."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import to_item
from chalicelib.domain.ids import new_id
from chalicelib.services.clock import seconds_after, utc_now
from tests.helpers import Mailbox
from tests.integration.test_mail import visitor


def _waiting(outreach: Any, retry_at: str, to: str, **extra: Any) -> str:
    """An outbox item already tried once and waiting until retry_at (so neither the stream
    nor the stack's own sweep takes it before the test does)."""
    message_id = new_id()
    item = {
        "pk": f"OUTBOX#{message_id}",
        "sk": "OUTBOX",
        "entity": "outbox",
        "id": message_id,
        "template": "contact_ack",
        "to": to,
        "created_at": utc_now(),
        "context": {
            "name": "Amara",
            "email": to,
            "topic_name": "Media",
            "subject": "Swept",
            "message": "Hi",
            "contact_id": "x",
        },
        "status": "pending",
        "attempts": 1,
        "lease_until": retry_at,
        "gsi1pk": "OUTBOX#PENDING",
        "gsi1sk": f"{retry_at}#{message_id}",
        **extra,
    }
    outreach.client.put_item(TableName=outreach.table, Item=to_item(item))
    return message_id


def test_an_item_the_table_refuses_does_not_stop_the_sweep(outreach: Any, mailbox: Mailbox) -> None:
    from chalicelib.bootstrap import get_mailer
    from chalicelib.services import outbox

    later = seconds_after(utc_now(), 3600)
    # A damaged item (attempts is not a number): DynamoDB refuses every claim of it.
    poison = _waiting(outreach, later, visitor(), attempts="one")
    good_to = visitor()
    _waiting(outreach, seconds_after(later, 1), good_to)
    try:
        sent = outbox.deliver_due(
            repo=outreach, mailer=get_mailer(), now=lambda: seconds_after(later, 60), limit=1000
        )
        assert sent >= 1
        assert len(mailbox.wait_to(good_to, timeout=5)) == 1
    finally:
        outreach.client.delete_item(
            TableName=outreach.table, Key=to_item({"pk": f"OUTBOX#{poison}", "sk": "OUTBOX"})
        )
