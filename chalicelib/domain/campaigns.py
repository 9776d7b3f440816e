"""Campaign progress: what one gift adds to its campaign's amount raised and donor count. No
I/O.

A gift counts toward its campaign once it is paid, with what the organization keeps of it:
the amount paid less its refunds and less any dispute it lost (never below zero). A gift kept
in full by nobody (refunded in full, lost to a dispute, failed, never paid) counts for nothing,
and its donor counts only through another gift. Progress is kept per campaign and currency,
so nothing is ever added across currencies.

The donor count is a distinct count kept with a reference count: one marker per campaign,
currency and donor (the SHA-256 of the address, lower-cased) holding how many of the donor's
gifts count; the campaign's `donors` moves by one exactly when a marker goes from 0 to 1 or
back. See services/totals.py for why that stays right under replays and any order."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from chalicelib.domain.donation import Donation

CAMPAIGN_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")  # a slug, as in a page's address


@dataclass(frozen=True)
class Campaign:
    """A public campaign (STEWARD_CAMPAIGNS): gifts whose `campaign` is this id count toward
    its goal, in minor units of its currency."""

    id: str
    title: str
    goal: int
    currency: str


def is_campaign_id(text: str) -> bool:
    return CAMPAIGN_ID.fullmatch(text) is not None


class Share(NamedTuple):
    """What one gift adds to its campaign: the amount it keeps, for one donor."""

    campaign: str
    currency: str
    donor: str  # SHA-256 of the donor's address, trimmed and lower-cased
    raised: int


class Progress(NamedTuple):
    """A campaign's progress in one currency, or a change to it."""

    raised: int = 0
    gifts: int = 0
    donors: int = 0


@dataclass(frozen=True)
class MarkerStep:
    """A change to one donor's marker: how many of their gifts counted (`seen`, as read) and by
    how many that changes. The campaign's donor count moves only when the marker crosses zero."""

    campaign: str
    currency: str
    donor: str
    seen: int
    gifts: int

    @property
    def donors(self) -> int:
        return int(self.seen + self.gifts > 0) - int(self.seen > 0)


def donor_of(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def kept(donation: Donation) -> int:
    """What the organization keeps of a gift: paid, less refunds and disputes it lost."""
    if donation.status != "succeeded":
        return 0
    lost = donation.disputed if donation.dispute == "lost" else 0
    return max(0, donation.amount - donation.refunded - lost)


def share_of(donation: Donation) -> Share | None:
    """The gift's share of its campaign, or None when it has no campaign or keeps nothing."""
    amount = kept(donation)
    if not donation.campaign or amount == 0:
        return None
    return Share(donation.campaign, donation.currency, donor_of(donation.email), amount)


ShareChange = tuple[Share | None, Share | None]  # a gift's share before and after


def marker_changes(before: Share | None, after: Share | None) -> dict[tuple[str, str, str], int]:
    """By how much each donor marker changes when a gift's share goes from before to after."""
    return summed_marker_changes([(before, after)])


def summed_marker_changes(changes: list[ShareChange]) -> dict[tuple[str, str, str], int]:
    """By how much each donor marker changes when each gift's share moves (several gifts of
    one donor add up: a marker is written once)."""
    sums: dict[tuple[str, str, str], int] = {}
    for before, after in changes:
        for share, sign in ((before, -1), (after, 1)):
            if share is not None:
                key = (share.campaign, share.currency, share.donor)
                sums[key] = sums.get(key, 0) + sign
    return {key: change for key, change in sorted(sums.items()) if change}


def progress_changes(
    before: Share | None, after: Share | None, steps: list[MarkerStep]
) -> dict[tuple[str, str], Progress]:
    """What to add to each campaign's progress (campaign, currency): the amount raised, the
    gifts that count and the donors that start or stop counting (from the marker steps)."""
    return summed_progress([(before, after)], steps)


def summed_progress(changes: list[ShareChange], steps: list[MarkerStep]) -> dict[tuple[str, str], Progress]:
    """progress_changes for several gifts at once: one sum per campaign and currency."""
    sums: dict[tuple[str, str], list[int]] = {}
    for before, after in changes:
        for share, sign in ((before, -1), (after, 1)):
            if share is not None:
                total = sums.setdefault((share.campaign, share.currency), [0, 0, 0])
                total[0] += sign * share.raised
                total[1] += sign
    for step in steps:
        sums.setdefault((step.campaign, step.currency), [0, 0, 0])[2] += step.donors
    return {key: Progress(*total) for key, total in sorted(sums.items()) if any(total)}
