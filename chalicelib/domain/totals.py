"""Finance totals: what one gift adds to the aggregates, and how aggregate items fold into the
rows of a report. No I/O.

A paid gift adds to four aggregate cells of the day it was paid: one for every gift ("all",
read for group_by day and month), and one under its fund, its campaign and its frequency. A
cell is one currency pair: gross, refunded and disputed are in the gift's currency; fees and
net in the settlement currency of its balance transaction (None until Stripe reports one),
so nothing is ever added across currencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

from chalicelib.domain.donation import Donation

GroupBy = Literal["day", "month", "fund", "campaign", "frequency"]
Dimension = Literal["all", "fund", "campaign", "frequency"]
DIMENSIONS: tuple[Dimension, ...] = ("all", "fund", "campaign", "frequency")
DIMENSION_OF: dict[str, Dimension] = {
    "day": "all",
    "month": "all",
    "fund": "fund",
    "campaign": "campaign",
    "frequency": "frequency",
}
# Disputes that keep the money from us: while open (the bank holds it) and once lost.
DISPUTED_STATES = frozenset({"open", "lost"})


class Figures(NamedTuple):
    """What a cell adds up: gifts, gross (charged), fees and net (settlement currency),
    refunded (refunds that still count) and disputed (under an open or lost dispute)."""

    count: int = 0  # type: ignore[assignment]  # the field shadows tuple.count, unused here
    gross: int = 0
    fees: int = 0
    net: int = 0
    refunded: int = 0
    disputed: int = 0

    def plus(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(self, other, strict=True)))

    def minus(self, other: Figures) -> Figures:
        return Figures(*(a - b for a, b in zip(self, other, strict=True)))

    def any(self) -> bool:
        return any(self)


FIGURES: tuple[str, ...] = Figures._fields


class Cell(NamedTuple):
    """One aggregate cell: a dimension's value on a day, in one currency pair."""

    dimension: str
    day: str  # YYYY-MM-DD, the day the gift was paid (UTC)
    value: str | None  # the fund, campaign or frequency; None for "all" and a gift with no campaign
    currency: str
    settlement_currency: str | None

    def sort_key(self) -> tuple[str, ...]:
        return (self.dimension, self.day, self.currency, self.settlement_currency or "", self.value or "")


def paid_day(donation: Donation) -> str:
    return (donation.succeeded_at or donation.created_at)[:10]


def figures_of(donation: Donation) -> Figures:
    """What a gift adds: nothing until it is paid (a refund recorded before its success waits
    in `refunded` and counts from the moment the payment does)."""
    if donation.status != "succeeded":
        return Figures()
    settled = donation.settlement_currency is not None
    return Figures(
        count=1,
        gross=donation.amount,
        fees=(donation.fee or 0) if settled else 0,
        net=(donation.net or 0) if settled else 0,
        refunded=donation.refunded,
        disputed=donation.disputed if donation.dispute in DISPUTED_STATES else 0,
    )


def contribution(donation: Donation) -> dict[Cell, Figures]:
    """The cells a gift adds to, and what it adds to each (empty while it is not paid)."""
    figures = figures_of(donation)
    if not figures.any():
        return {}
    day, pair = paid_day(donation), (donation.currency, donation.settlement_currency)
    values: dict[Dimension, str | None] = {
        "all": None,
        "fund": donation.fund,
        "campaign": donation.campaign or None,
        "frequency": donation.frequency,
    }
    return {Cell(dimension, day, values[dimension], *pair): figures for dimension in DIMENSIONS}


def changes(before: dict[Cell, Figures], after: dict[Cell, Figures]) -> dict[Cell, Figures]:
    """What to add to each cell to go from one contribution to the next (cells left unchanged
    are left out)."""
    deltas = {
        cell: after.get(cell, Figures()).minus(before.get(cell, Figures())) for cell in {*before, *after}
    }
    return {cell: deltas[cell] for cell in sorted(deltas, key=Cell.sort_key) if deltas[cell].any()}


@dataclass(frozen=True)
class Row:
    """One row of a totals report: a group in one currency pair."""

    group: str | None
    currency: str
    settlement_currency: str | None
    figures: Figures

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "currency": self.currency,
            "settlement_currency": self.settlement_currency,
            **self.figures._asdict(),
        }


def group_of(cell: Cell, group_by: GroupBy) -> str | None:
    if group_by == "day":
        return cell.day
    if group_by == "month":
        return cell.day[:7]
    return cell.value


def fold(cells: list[tuple[Cell, Figures]], group_by: GroupBy, start: date, end: date) -> list[Row]:
    """The report's rows: cells of the dimension group_by reads, paid within [start, end],
    summed per group and currency pair; empty cells (every gift in them moved on) left out."""
    dimension = DIMENSION_OF[group_by]
    first, last = start.isoformat(), end.isoformat()
    sums: dict[tuple[str | None, str, str | None], list[int]] = {}
    for cell, f in cells:
        if cell.dimension != dimension or not first <= cell.day <= last:
            continue
        key = (group_of(cell, group_by), cell.currency, cell.settlement_currency)
        total = sums.get(key)
        if total is None:
            total = sums[key] = [0, 0, 0, 0, 0, 0]
        total[0] += f.count
        total[1] += f.gross
        total[2] += f.fees
        total[3] += f.net
        total[4] += f.refunded
        total[5] += f.disputed
    rows = [Row(*key, Figures(*total)) for key, total in sums.items() if total[0]]
    return sorted(rows, key=lambda r: (r.group or "", r.currency, r.settlement_currency or ""))
