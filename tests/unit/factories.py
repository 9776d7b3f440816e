"""Domain objects for unit tests."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.donation import Donation
from chalicelib.domain.ids import new_id


def donation(**overrides: Any) -> Donation:
    values: dict[str, Any] = {
        "id": new_id(),
        "amount": 5000,
        "currency": "usd",
        "fund": "general",
        "email": "a@example.org",
        "first_name": "A",
        "last_name": "B",
        "created_at": "2026-11-27T00:00:00.000Z",
        "updated_at": "2026-11-27T00:00:00.000Z",
    }
    return Donation(**{**values, **overrides})
