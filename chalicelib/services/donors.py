"""A donor's giving history for finance staff: their gifts, newest first, and totals."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.donation import Donation
from chalicelib.domain.finding import CurrencyTotals, donor_totals
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import Repository


@dataclass(frozen=True)
class DonorHistory:
    email: str
    totals: list[CurrencyTotals]
    items: list[Donation]
    cursor: str | None


def donor_history(
    email: str, limit: int, cursor: str | None, *, repo: Repository, clock: Clock = utc_now
) -> DonorHistory:
    """One page of the donor's gifts, with lifetime and year-to-date totals over all of them
    (two Queries of the donor index: the page, and every gift for the totals)."""
    page = repo.donor_page(email, limit, cursor)
    totals = donor_totals(repo.donor_gifts(email), clock()[:4])
    return DonorHistory(email, totals, page.items, page.cursor)
