"""Every DynamoDB key Steward writes is built here (single-table design)."""

from __future__ import annotations

from typing import Any

Key = dict[str, Any]

DONATION_SK = "DONATION"


def donation(donation_id: str) -> Key:
    return {"pk": f"DONATION#{donation_id}", "sk": DONATION_SK}


def donation_audit(donation_id: str, timestamp: str, suffix: str) -> Key:
    return {"pk": f"DONATION#{donation_id}", "sk": f"AUDIT#{timestamp}#{suffix}"}


def donations_by_month(created_at: str) -> str:
    """GSI1 partition: one per calendar month of creation, sorted by created_at within."""
    return f"DONATIONS#{created_at[:7]}"


def donation_sort(created_at: str, donation_id: str) -> str:
    return f"{created_at}#{donation_id}"


def idempotency(key_hash: str) -> Key:
    return {"pk": f"IDEMPOTENCY#{key_hash}", "sk": "IDEMPOTENCY"}


def stripe_link(stripe_id: str) -> Key:
    return {"pk": f"STRIPE#{stripe_id}", "sk": "STRIPE"}


def stripe_event(event_id: str) -> Key:
    return {"pk": f"EVENT#{event_id}", "sk": "EVENT"}
