"""An outbox email as a table item: written by a use case's unit of work (adapters/dynamo_tx.py)
and by the form routes' repository (adapters/dynamo_outreach.py), which does not load the unit
of work and the money ports with it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalicelib.adapters import keys
from chalicelib.services.outreach_ports import OutboxMessage


def outbox_values(message: OutboxMessage) -> dict[str, Any]:
    return {
        **asdict(message),
        **keys.outbox(message.id),
        "entity": "outbox",
        "gsi1pk": keys.outbox_pending(message.id),
        "gsi1sk": f"{message.created_at}#{message.id}",
    }
