"""Generated gift histories for campaign progress: the totals tests' stream (tests/totals_data.py)
with each gift given by one of a few donors (one of them writing their address in two cases),
and the progress expected, counted straight from the final gift records."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from chalicelib.domain.donation import Donation
from tests.totals_data import CAMPAIGNS, stream

DONORS = ("ada@example.org", "Ada@Example.org", "grace@example.org", "alan@example.org")
CURRENCIES = ("usd", "eur")


def campaign_names(year: int) -> list[str]:
    """The example's own campaigns, so examples sharing a table never share a campaign."""
    return [f"{name}-{year}" for name in CAMPAIGNS if name]


@st.composite
def campaign_stream(draw: Any, year: int) -> tuple[list[Donation], list[Donation]]:
    """(final gift records, the stream: every image, some repeated, in any order)."""
    gifts, images = draw(stream(year))
    donors = {gift.id: draw(st.sampled_from(DONORS)) for gift in gifts}

    def given_by(image: Donation) -> Donation:
        campaign = f"{image.campaign}-{year}" if image.campaign else None
        return image.model_copy(update={"email": donors[image.id], "campaign": campaign})

    return [given_by(g) for g in gifts], [given_by(i) for i in images]


def expected_progress(gifts: list[Donation], year: int) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(raised, gifts, donors) per campaign and currency: each paid gift's amount less its
    refunds and lost disputes (never below 0); a gift that keeps nothing counts for nothing,
    and a donor counts once, whatever the case of their address, while any of their gifts counts."""
    found: dict[tuple[str, str], tuple[int, int, set[str]]] = {
        (name, currency): (0, 0, set()) for name in campaign_names(year) for currency in CURRENCIES
    }
    for gift in gifts:
        if gift.status != "succeeded" or not gift.campaign:
            continue
        lost = gift.disputed if gift.dispute == "lost" else 0
        kept = max(0, gift.amount - gift.refunded - lost)
        if kept:
            raised, count, donors = found[(gift.campaign, gift.currency)]
            found[(gift.campaign, gift.currency)] = (raised + kept, count + 1, donors | {gift.email.lower()})
    return {key: (raised, count, len(donors)) for key, (raised, count, donors) in found.items()}
