"""Totals from the stream, with an in-memory store that keeps DynamoDB's rules (a conditional
put of the contribution, ADD of each difference, all or nothing): the totals equal the sum over
the gift records whatever the order of the stream and however often it repeats itself."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.campaigns import MarkerStep, Progress
from chalicelib.domain.donation import Donation
from chalicelib.domain.totals import DIMENSIONS, Cell, Figures
from chalicelib.services.totals import CampaignChange, StoredContribution, TotalsStore, apply_gift, report
from chalicelib.services.totals_batch import BatchWrite, Refused, apply_gifts
from tests.totals_data import expected_rows, stream
from tests.unit.factories import donation

GROUPS = ("day", "month", "fund", "campaign", "frequency")


class MemoryTotals(TotalsStore):
    def __init__(self) -> None:
        self.contributions_by_id: dict[str, StoredContribution] = {}
        self.totals: dict[Cell, Figures] = {}
        self.markers: dict[tuple[str, str, str], int] = {}
        self.campaigns: dict[tuple[str, str], Progress] = {}
        self.lose_next_race = False

    def gift_from_image(self, image: dict[str, Any]) -> Donation:
        raise NotImplementedError

    def contribution(self, donation_id: str) -> StoredContribution | None:
        return self.contributions_by_id.get(donation_id)

    def save(
        self,
        donation_id: str,
        read_version: int | None,
        version: int,
        after: dict[Cell, Figures],
        deltas: dict[Cell, Figures],
        campaign: CampaignChange,
    ) -> bool:
        stored = self.contributions_by_id.get(donation_id)
        moved = any(self.markers.get((s.campaign, s.currency, s.donor), 0) != s.seen for s in campaign.steps)
        if self.lose_next_race or moved or (stored.version if stored else None) != read_version:
            self.lose_next_race = False
            return False
        self.contributions_by_id[donation_id] = StoredContribution(version, after, campaign.share)
        self._add(deltas, campaign.steps, campaign.progress)
        return True

    def contributions(self, donation_ids: list[str]) -> dict[str, StoredContribution]:
        return {i: self.contributions_by_id[i] for i in donation_ids if i in self.contributions_by_id}

    def donor_counts(self, markers: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        return {m: self.markers.get(m, 0) for m in markers}

    def save_batch(self, batch: BatchWrite) -> Refused | None:
        stale = {
            g.donation_id
            for g in batch.gifts
            if (s.version if (s := self.contributions_by_id.get(g.donation_id)) else None) != g.read_version
        }
        moved = {
            (s.campaign, s.currency, s.donor)
            for s in batch.steps
            if self.markers.get((s.campaign, s.currency, s.donor), 0) != s.seen
        }
        if stale or moved:
            return Refused(frozenset(stale), frozenset(moved))
        for g in batch.gifts:
            self.contributions_by_id[g.donation_id] = StoredContribution(g.version, g.after, g.share)
        self._add(batch.deltas, batch.steps, batch.progress)
        return None

    def _add(
        self,
        deltas: dict[Cell, Figures],
        steps: list[MarkerStep],
        progress: dict[tuple[str, str], Progress],
    ) -> None:
        for cell, delta in deltas.items():
            self.totals[cell] = self.totals.get(cell, Figures()).plus(delta)
        for step in steps:
            self.markers[(step.campaign, step.currency, step.donor)] = step.seen + step.gifts
        for key, change in progress.items():
            now = self.campaigns.get(key, Progress())
            self.campaigns[key] = Progress(*(a + b for a, b in zip(now, change, strict=True)))

    def donor_gifts(self, campaign: str, currency: str, donor: str) -> int:
        return self.markers.get((campaign, currency, donor), 0)

    def progress(self, campaign: str, currency: str) -> Progress:
        return self.campaigns.get((campaign, currency), Progress())

    def cells(self, dimension: str, start: date, end: date) -> list[tuple[Cell, Figures]]:
        first, last = start.isoformat(), end.isoformat()
        return [(c, f) for c, f in self.totals.items() if c.dimension == dimension and first <= c.day <= last]


YEARS = itertools.count(2100)


@settings(max_examples=300, deadline=None)
@given(data=stream(2100))
def test_totals_equal_the_sum_over_the_gift_records_in_any_order_and_with_replays(data: Any) -> None:
    gifts, images = data
    store = MemoryTotals()
    for image in images:
        apply_gift(image, store)
    for group_by in GROUPS:
        rows = report(group_by, date(2100, 1, 1), date(2100, 12, 31), store)  # type: ignore[arg-type]
        assert [r.as_dict() for r in rows] == expected_rows(gifts, group_by), group_by


@settings(max_examples=300, deadline=None)
@given(data=stream(2100), cuts=st.sets(st.integers(1, 60), max_size=6), again=st.integers(0, 3))
def test_batches_equal_the_sum_over_the_gift_records(data: Any, cuts: set[int], again: int) -> None:
    """The stream handler's batch sum (services/totals_batch.py): the images cut into batches
    at random, one batch delivered again."""
    gifts, images = data
    store = MemoryTotals()
    bounds = [0, *sorted(c for c in cuts if c < len(images)), len(images)]
    batches = [images[a:b] for a, b in itertools.pairwise(bounds)]
    for batch in [*batches, *batches[again : again + 1]]:
        apply_gifts(batch, store)
    for group_by in GROUPS:
        rows = report(group_by, date(2100, 1, 1), date(2100, 12, 31), store)  # type: ignore[arg-type]
        assert [r.as_dict() for r in rows] == expected_rows(gifts, group_by), group_by


def test_a_replayed_or_older_image_changes_nothing() -> None:
    store = MemoryTotals()
    paid = donation(status="succeeded", succeeded_at="2026-03-04T10:00:00.000Z", version=2)
    refunded = paid.model_copy(update={"refunded": 1000, "version": 3})
    assert apply_gift(refunded, store) is True
    assert apply_gift(paid, store) is False and apply_gift(refunded, store) is False
    [row] = report("day", date(2026, 3, 4), date(2026, 3, 4), store)
    assert (row.figures.count, row.figures.gross, row.figures.refunded) == (1, 5000, 1000)


def test_a_gift_that_lost_a_race_is_read_again_and_applied_once() -> None:
    store = MemoryTotals()
    store.lose_next_race = True
    apply_gift(donation(status="succeeded", succeeded_at="2026-03-04T10:00:00.000Z", version=1), store)
    assert len(store.totals) == len(DIMENSIONS) and {f.count for f in store.totals.values()} == {1}


def test_fees_and_net_stay_with_their_settlement_currency() -> None:
    store = MemoryTotals()
    paid = {"status": "succeeded", "succeeded_at": "2026-03-04T10:00:00.000Z", "version": 1}
    apply_gift(donation(**paid, fee=175, net=4825, settlement_currency="usd"), store)
    apply_gift(donation(**paid, fee=160, net=4440, settlement_currency="eur"), store)
    apply_gift(donation(**paid), store)  # not settled yet: no fee or net to add
    rows = [r.as_dict() for r in report("month", date(2026, 3, 1), date(2026, 3, 31), store)]
    assert [(r["settlement_currency"], r["count"], r["gross"], r["fees"], r["net"]) for r in rows] == [
        (None, 1, 5000, 0, 0),
        ("eur", 1, 5000, 160, 4440),
        ("usd", 1, 5000, 175, 4825),
    ]
    assert {r["currency"] for r in rows} == {"usd"}


class Listing:
    """list_donations over a fixed list of gifts, two to a page."""

    def __init__(self, gifts: list[Donation]) -> None:
        self.gifts = gifts

    def list_donations(
        self, start: str, end: str, limit: int, cursor: str | None, *, include_abandoned: bool = False
    ) -> Any:
        from chalicelib.services.ports import DonationPage

        at = int(cursor or 0)
        chosen = [g for g in self.gifts if start <= g.created_at <= end]
        return DonationPage(chosen[at : at + 2], str(at + 2) if at + 2 < len(chosen) else None)


def test_a_backfill_adds_gifts_written_before_the_stream_handler_once() -> None:
    from chalicelib.services.totals import backfill

    paid = {"status": "succeeded", "succeeded_at": "2026-03-04T10:00:00.000Z", "version": 4}
    gifts = [donation(**paid, created_at=f"2026-03-0{n}T09:00:00.000Z") for n in range(1, 6)]
    store, seen = MemoryTotals(), []
    apply_gift(gifts[0], store)  # the stream had this one already
    run = backfill(
        date(2026, 3, 1), "2026-03-31T23:59:59.999Z", repo=Listing(gifts), store=store, progress=seen.append
    )  # type: ignore[arg-type]
    assert (run.gifts, run.applied, seen) == (5, 4, [2, 4, 5])
    again = backfill(date(2026, 3, 1), "2026-03-31T23:59:59.999Z", repo=Listing(gifts), store=store)  # type: ignore[arg-type]
    assert again.applied == 0
    [row] = report("day", date(2026, 3, 4), date(2026, 3, 4), store)
    assert (row.figures.count, row.figures.gross) == (5, 25000)
