"""Totals per stream batch: each gift's versioned contribution, and the batch's deltas summed,
so a hot cell (the day's `all` cell, a campaign's progress) takes one write per batch instead
of one per gift.

A batch is read once (every gift's stored contribution, then the donor markers whose count
moves), and written in as few transactions as DynamoDB allows (TRANSACTION_ITEMS). Each
transaction is whole on its own: the contributions of its gifts, each conditional on the
version read, and for exactly those gifts the summed ADD on each cell, the summed step of each
donor marker (conditional on the count read) and the summed change of each campaign's
progress. So what services/totals.py proves for one gift holds for each transaction: it moves
every aggregate by exactly what it changes in the stored contributions, all or nothing.

Duplicates and out-of-order images of one gift in a batch: only its newest image is planned.
An image no newer than the stored contribution (a replay, one overtaken) is left out at the
read. One that turns out stale at the transaction (another writer got there between the read
and the write) makes DynamoDB cancel it, naming the items whose condition failed: those
contributions and markers are read again and the transaction is planned again, stale gifts
left out, at most ATTEMPTS times. A transaction that meets another on a cell
(TransactionConflict) is tried again after a short random pause.

A record that cannot be read as a gift, or a gift whose write DynamoDB refuses for good, holds
up nothing: the rest of the batch is applied, then the handler raises, and the event source
retries and bisects until the bad record is alone and goes to the on-failure queue (the retries
of the good ones change nothing)."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.campaigns import (
    MarkerStep,
    Progress,
    Share,
    share_of,
    summed_marker_changes,
    summed_progress,
)
from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import StreamRecordError, UpstreamError, WriteRefusedError
from chalicelib.domain.totals import Cell, Figures, changes, contribution
from chalicelib.services.totals import StoredContribution, TotalsStore, newer

TRANSACTION_ITEMS = 100  # DynamoDB's limit on one TransactWriteItems (and 4 MB: far off here)
ATTEMPTS = 8
log = logging.getLogger("steward")
MarkerKey = tuple[str, str, str]  # campaign, currency, donor


@dataclass(frozen=True)
class GiftWrite:
    """One gift's new contribution, to be stored if the stored one is still at read_version."""

    donation_id: str
    read_version: int | None
    version: int
    after: dict[Cell, Figures]
    share: Share | None


@dataclass(frozen=True)
class BatchWrite:
    """One transaction: its gifts' contributions and the sums of what they change."""

    gifts: list[GiftWrite]
    deltas: dict[Cell, Figures]
    steps: list[MarkerStep]
    progress: dict[tuple[str, str], Progress]

    @property
    def items(self) -> int:
        return len(self.gifts) + len(self.deltas) + len(self.steps) + len(self.progress)


@dataclass(frozen=True)
class Refused:
    """Why a transaction was cancelled: the contributions and markers whose condition failed,
    or a conflict with another transaction (nothing stale)."""

    gifts: frozenset[str] = frozenset()
    markers: frozenset[MarkerKey] = frozenset()
    conflict: bool = False


@dataclass(frozen=True)
class Plan:
    """What one gift changes, from its stored contribution to this image."""

    donation: Donation
    stored: StoredContribution | None
    after: dict[Cell, Figures]
    deltas: dict[Cell, Figures]
    share: Share | None

    @property
    def shares(self) -> tuple[Share | None, Share | None]:
        return (self.stored.share if self.stored else None), self.share

    @property
    def changes_totals(self) -> bool:
        before, after = self.shares
        return bool(self.deltas) or before != after

    def keys(self) -> tuple[set[Cell], set[MarkerKey], set[tuple[str, str]]]:
        """The items it writes beside its contribution: cells, markers, progress."""
        campaigns = {(s.campaign, s.currency) for s in self.shares if s is not None}
        return set(self.deltas), set(summed_marker_changes([self.shares])), campaigns


def plan(donation: Donation, stored: StoredContribution | None) -> Plan:
    after = contribution(donation)
    deltas = changes(stored.cells if stored else {}, after)
    return Plan(donation, stored, after, deltas, share_of(donation))


def batch_write(plans: list[Plan], markers: dict[MarkerKey, int]) -> BatchWrite:
    """The transaction for these gifts: deltas summed per cell, marker steps per donor (with
    the counts read), progress per campaign."""
    deltas: dict[Cell, Figures] = {}
    for p in plans:
        for cell, delta in p.deltas.items():
            deltas[cell] = deltas.get(cell, Figures()).plus(delta)
    shares = [p.shares for p in plans]
    steps = [MarkerStep(*key, markers.get(key, 0), n) for key, n in summed_marker_changes(shares).items()]
    gifts = [
        GiftWrite(p.donation.id, p.stored.version if p.stored else None, p.donation.version, p.after, p.share)
        for p in plans
    ]
    summed = {cell: deltas[cell] for cell in sorted(deltas, key=Cell.sort_key) if deltas[cell].any()}
    return BatchWrite(gifts, summed, steps, summed_progress(shares, steps))


def groups(plans: list[Plan]) -> list[list[Plan]]:
    """Gifts in order, as many to a transaction as its item limit allows."""
    found: list[list[Plan]] = []
    current: list[Plan] = []
    cells: set[Cell] = set()
    donors: set[MarkerKey] = set()
    campaigns: set[tuple[str, str]] = set()
    for p in plans:
        c, d, g = p.keys()
        if (
            current
            and len(current) + 1 + len(cells | c) + len(donors | d) + len(campaigns | g) > TRANSACTION_ITEMS
        ):
            found.append(current)
            current, cells, donors, campaigns = [], set(), set(), set()
        current.append(p)
        cells, donors, campaigns = cells | c, donors | d, campaigns | g
    return [*found, current] if current else found


@dataclass
class Batch:
    """What the batch has read (kept up to date as its transactions commit)."""

    store: TotalsStore
    stored: dict[str, StoredContribution]
    markers: dict[MarkerKey, int]
    refused: list[str] = field(default_factory=list)  # gifts whose write DynamoDB refuses for good

    def commit(self, plans: list[Plan]) -> int:
        """Apply these gifts' plans in one transaction (split when past the limit, planned again
        from what is read after a refusal); how many changed the totals."""
        for attempt in range(ATTEMPTS):
            if not plans:
                return 0
            write = batch_write(plans, self.markers)
            if write.items > TRANSACTION_ITEMS and len(plans) > 1:
                return self._halves(plans)
            try:
                refused = self.store.save_batch(write)
            except WriteRefusedError as exc:
                if len(plans) > 1:
                    return self._halves(plans)
                log.warning("totals of gift %s not written: %s", plans[0].donation.id, exc.message)
                self.refused.append(plans[0].donation.id)
                return 0
            if refused is None:
                self._committed(write)
                return sum(p.changes_totals for p in plans)
            if refused.conflict:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311  (a pause, not a secret)
            self.stored.update(self.store.contributions(sorted(refused.gifts)))
            self.markers.update(self.store.donor_counts(sorted(refused.markers)))
            plans = plans_for([p.donation for p in plans], self.stored)
        raise UpstreamError("the batch's totals kept changing underneath; retry")

    def _halves(self, plans: list[Plan]) -> int:
        half = len(plans) // 2
        return self.commit(plans[:half]) + self.commit(plans[half:])

    def _committed(self, write: BatchWrite) -> None:
        for gift in write.gifts:
            self.stored[gift.donation_id] = StoredContribution(gift.version, gift.after, gift.share)
        for step in write.steps:
            self.markers[(step.campaign, step.currency, step.donor)] = step.seen + step.gifts


def plans_for(gifts: list[Donation], stored: dict[str, StoredContribution]) -> list[Plan]:
    """The plans of the gifts newer than their stored contribution (a replay or an image
    overtaken by another is left out)."""
    return [plan(d, stored.get(d.id)) for d in gifts if stored.get(d.id) is None or newer(d, stored[d.id])]


def latest(donations: list[Donation]) -> list[Donation]:
    """The newest image of each gift, in the order the gifts first appear."""
    found: dict[str, Donation] = {}
    for d in donations:
        seen = found.get(d.id)
        if seen is None or d.version > seen.version:
            found[d.id] = d
    return list(found.values())


def apply_gifts(donations: list[Donation], store: TotalsStore) -> int:
    """Bring the totals up to these images of gifts (a stream batch, in any order, with
    repeats); how many gifts changed them."""
    gifts = latest(donations)
    if not gifts:
        return 0
    stored = store.contributions([d.id for d in gifts])
    plans = plans_for(gifts, stored)
    moving = sorted({key for p in plans for key in p.keys()[1]})
    batch = Batch(store, stored, store.donor_counts(moving) if moving else {})
    applied = sum(batch.commit(group) for group in groups(plans))
    if batch.refused:
        raise StreamRecordError(f"{len(batch.refused)} of {len(gifts)} gifts could not be written")
    return applied


def apply_gift_images(images: list[dict[str, Any]], store: TotalsStore) -> int:
    """apply_gifts for a batch as the table's stream delivers it. An image that cannot be read
    as a gift is left for the event source to hand on, after the rest is applied."""
    gifts: list[Donation] = []
    for image in images:
        try:
            gifts.append(store.gift_from_image(image))
        except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            log.warning("gift record %s not readable: %s", image.get("pk", {}).get("S"), type(exc).__name__)
    applied = apply_gifts(gifts, store)
    if len(gifts) < len(images):
        raise StreamRecordError(f"{len(images) - len(gifts)} of {len(images)} gift records could not be read")
    return applied
