"""Gift terms that routes outside the donation form also name (GET /config lists them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Frequency = Literal["one_time", "monthly", "annual"]


@dataclass(frozen=True)
class Premium:
    """A thank-you gift a campaign offers, with its good-faith fair-market value (minor units)."""

    id: str
    name: str
    value: int
