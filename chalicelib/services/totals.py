"""Finance totals: keep the aggregates as gifts change (from the table's stream), and report
them. Correct under duplicates and any order: each gift's contribution is stored with the gift
version it came from, and only a newer version replaces it, adding the difference."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import UpstreamError
from chalicelib.domain.totals import DIMENSION_OF, Cell, Figures, GroupBy, Row, changes, contribution, fold

if TYPE_CHECKING:
    from chalicelib.services.ports import Repository

SAVE_ATTEMPTS = 5
BACKFILL_PAGE = 200


@dataclass(frozen=True)
class StoredContribution:
    version: int
    cells: dict[Cell, Figures]


class TotalsStore(abc.ABC):
    @abc.abstractmethod
    def gift_from_image(self, image: dict[str, Any]) -> Donation:
        """A gift from its stream image (the table's typed item form)."""

    @abc.abstractmethod
    def contribution(self, donation_id: str) -> StoredContribution | None:
        """What the gift last added, read consistently."""

    @abc.abstractmethod
    def save(
        self,
        donation_id: str,
        read_version: int | None,
        version: int,
        after: dict[Cell, Figures],
        deltas: dict[Cell, Figures],
    ) -> bool:
        """Store the new contribution and add the deltas, in one transaction, if the stored
        contribution is still at read_version (None: none stored); False otherwise."""

    @abc.abstractmethod
    def cells(self, dimension: str, start: date, end: date) -> list[tuple[Cell, Figures]]:
        """Every aggregate cell of a dimension for the days in [start, end]."""


def apply_gift(donation: Donation, store: TotalsStore) -> bool:
    """Bring the totals up to this image of a gift; True if it changed them. An image no newer
    than the one applied already (a replay, or one overtaken by a later change) changes nothing."""
    for _ in range(SAVE_ATTEMPTS):
        stored = store.contribution(donation.id)
        if stored is not None and stored.version >= donation.version:
            return False
        after = contribution(donation)
        deltas = changes(stored.cells if stored else {}, after)
        if store.save(donation.id, stored.version if stored else None, donation.version, after, deltas):
            return bool(deltas)
    raise UpstreamError("the gift's totals kept changing underneath; retry")


def apply_gift_image(image: dict[str, Any], store: TotalsStore) -> bool:
    """apply_gift for a gift as the table's stream delivers it."""
    return apply_gift(store.gift_from_image(image), store)


@dataclass(frozen=True)
class Backfill:
    gifts: int  # gifts read
    applied: int  # gifts whose contribution this run brought up to date


def backfill(
    since: date,
    until: str,
    *,
    repo: Repository,
    store: TotalsStore,
    progress: Callable[[int], None] | None = None,
) -> Backfill:
    """Apply every gift created since `since` (through gsi1, month by month): gifts written
    before the stream handler ran get their contribution. Safe alongside the stream, and to run
    again: a gift whose contribution is as new as the record read changes nothing."""
    start, cursor, gifts, applied = f"{since.isoformat()}T00:00:00.000Z", None, 0, 0
    while True:
        page = repo.list_donations(start, until + "~", BACKFILL_PAGE, cursor, include_abandoned=True)
        for gift in page.items:
            gifts += 1
            applied += apply_gift(gift, store)
        if progress:
            progress(gifts)
        cursor = page.cursor
        if cursor is None:
            return Backfill(gifts, applied)


def report(group_by: GroupBy, start: date, end: date, store: TotalsStore) -> list[Row]:
    """Rows per group and currency pair for the gifts paid within [start, end]."""
    return fold(store.cells(DIMENSION_OF[group_by], start, end), group_by, start, end)
