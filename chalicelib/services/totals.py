"""Finance totals: keep the aggregates as gifts change (from the table's stream), and report
them. Correct under duplicates and any order: each gift's contribution is stored with the gift
version it came from, and only a newer version replaces it, adding the difference.

Campaign progress rides on the same contribution: it also holds the gift's campaign share
(domain/campaigns.py), and the same transaction moves the campaign's amount raised by the
share's difference and the donor's marker by the change in gifts that count, conditional on
the marker's count as read; the campaign's donor count moves by one exactly when that marker
crosses zero. So at every commit, for each campaign and currency, a marker holds how many of
its donor's gifts count by their stored contributions, and `donors` how many markers are
above zero: a distinct count. A replay or an older image changes nothing (the version check),
and a marker changed by another gift of the same donor meanwhile fails the condition, so the
whole transaction is refused and read again."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from chalicelib.domain.campaigns import (
    MarkerStep,
    Progress,
    Share,
    marker_changes,
    progress_changes,
    share_of,
)
from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import UpstreamError
from chalicelib.domain.totals import DIMENSION_OF, Cell, Figures, GroupBy, Row, changes, contribution, fold

if TYPE_CHECKING:
    from chalicelib.services.ports import Repository
    from chalicelib.services.totals_batch import BatchWrite, Refused

SAVE_ATTEMPTS = 5
BACKFILL_PAGE = 200


@dataclass(frozen=True)
class StoredContribution:
    version: int
    cells: dict[Cell, Figures]
    share: Share | None = None  # what it added to its campaign's progress
    # False for a contribution stored before campaign progress was kept: it added nothing
    # there, so the same version of the gift may still add its share (a backfill run does).
    share_kept: bool = True


@dataclass(frozen=True)
class CampaignChange:
    """A gift's new campaign share, the donor markers it moves (with the counts read) and what
    to add to each campaign's progress, keyed by (campaign, currency)."""

    share: Share | None
    steps: list[MarkerStep]
    progress: dict[tuple[str, str], Progress]


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
        campaign: CampaignChange,
    ) -> bool:
        """Store the new contribution and add the deltas, in one transaction, if the stored
        contribution is still at read_version (None: none stored) and each marker step's count
        is still the one it saw; False otherwise."""

    @abc.abstractmethod
    def contributions(self, donation_ids: list[str]) -> dict[str, StoredContribution]:
        """What each gift last added (those with none left out), read consistently."""

    @abc.abstractmethod
    def donor_counts(self, markers: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        """donor_gifts of each (campaign, currency, donor), read consistently."""

    @abc.abstractmethod
    def save_batch(self, batch: BatchWrite) -> Refused | None:
        """Store the batch's contributions and add its sums, in one transaction, if each stored
        contribution is still at the version read and each marker at the count read; else what
        was refused (services/totals_batch.py)."""

    @abc.abstractmethod
    def donor_gifts(self, campaign: str, currency: str, donor: str) -> int:
        """How many of a donor's gifts count toward a campaign (its marker), read consistently."""

    @abc.abstractmethod
    def progress(self, campaign: str, currency: str) -> Progress:
        """A campaign's progress in one currency (all zero before its first gift counts)."""

    @abc.abstractmethod
    def cells(self, dimension: str, start: date, end: date) -> list[tuple[Cell, Figures]]:
        """Every aggregate cell of a dimension for the days in [start, end]."""


def apply_gift(donation: Donation, store: TotalsStore) -> bool:
    """Bring the totals up to this image of a gift; True if it changed them. An image no newer
    than the one applied already (a replay, or one overtaken by a later change) changes nothing."""
    for _ in range(SAVE_ATTEMPTS):
        stored = store.contribution(donation.id)
        if stored is not None and not newer(donation, stored):
            return False
        after = contribution(donation)
        deltas = changes(stored.cells if stored else {}, after)
        campaign = campaign_change(stored.share if stored else None, share_of(donation), store)
        read = stored.version if stored else None
        if store.save(donation.id, read, donation.version, after, deltas, campaign):
            return bool(deltas or campaign.progress)
    raise UpstreamError("the gift's totals kept changing underneath; retry")


def newer(donation: Donation, stored: StoredContribution) -> bool:
    """Whether an image of a gift changes what its stored contribution holds."""
    return donation.version > stored.version or (donation.version == stored.version and not stored.share_kept)


def campaign_change(before: Share | None, after: Share | None, store: TotalsStore) -> CampaignChange:
    """What a gift's share moving from before to after does to its campaign's progress; reads
    only the markers whose count changes (a gift entering or leaving the count)."""
    steps = [
        MarkerStep(campaign, currency, donor, store.donor_gifts(campaign, currency, donor), change)
        for (campaign, currency, donor), change in marker_changes(before, after).items()
    ]
    return CampaignChange(after, steps, progress_changes(before, after, steps))


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
