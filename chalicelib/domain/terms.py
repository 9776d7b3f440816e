"""Gift terms that routes outside the donation form also name (GET /config lists them)."""

from __future__ import annotations

from typing import Literal

Frequency = Literal["one_time", "monthly", "annual"]
