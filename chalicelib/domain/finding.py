"""What finance staff may ask of the gift list, and a donor's giving totals (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from chalicelib.domain.donation import Donation
from chalicelib.domain.model import Model
from chalicelib.domain.text import has_line_break

FrequencyFilter = Literal["one_time", "installment", "monthly", "annual"]


@dataclass(frozen=True)
class GiftFilter:
    """Filters of GET /staff/donations beside its date range; None means any."""

    status: str | None = None  # a display status (pending, succeeded, refunded, ...)
    fund: str | None = None
    campaign: str | None = None
    frequency: FrequencyFilter | None = None
    email: str | None = None  # lower-cased
    min_amount: int | None = None
    max_amount: int | None = None

    def scope(self) -> dict[str, str]:
        """The filters that are set, as text: part of a cursor's scope (cursors.py)."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None}


def plain_text(value: str) -> bool:
    """Printable text that was valid UTF-8: a decoder puts U+FFFD where it was not."""
    return value.isprintable() and "\ufffd" not in value


def one_line(value: str | None) -> str | None:
    """A filter's free text (a campaign): one line of printable text; ValueError otherwise."""
    if value is not None and (has_line_break(value) or not plain_text(value)):
        raise ValueError("must be one line of printable text")
    return value


def amounts_in_order(low: int | None, high: int | None) -> int | None:
    """The upper bound of an amount range, refused when under the lower one."""
    if high is not None and low is not None and low > high:
        raise ValueError("must not be under min_amount")
    return high


class Totals(Model):
    gross: int = 0
    refunded: int = 0
    net: int = 0  # gross less refunds
    count: int = 0


class CurrencyTotals(Model):
    currency: str
    lifetime: Totals
    year_to_date: Totals


def year_paid(gift: Donation) -> str:
    return (gift.succeeded_at or gift.created_at)[:4]


def donor_totals(gifts: list[Donation], year: str) -> list[CurrencyTotals]:
    """Lifetime and year-to-date totals per currency over the paid gifts (status succeeded,
    whatever happened afterwards); a gift counts in the year it was paid."""
    found: dict[str, CurrencyTotals] = {}
    for gift in gifts:
        if gift.status != "succeeded":
            continue
        entry = found.setdefault(
            gift.currency, CurrencyTotals(currency=gift.currency, lifetime=Totals(), year_to_date=Totals())
        )
        spans = [entry.lifetime] + ([entry.year_to_date] if year_paid(gift) == year else [])
        for totals in spans:
            totals.gross += gift.amount
            totals.refunded += gift.refunded
            totals.net = totals.gross - totals.refunded
            totals.count += 1
    return [found[currency] for currency in sorted(found)]
