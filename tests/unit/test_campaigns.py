"""Campaign progress kept with the totals, in the in-memory store of tests/unit/test_totals.py
(a conditional contribution, conditional donor markers, ADDs, all or nothing): the amount
raised and the distinct donor count equal what the gift records say, under replays and any
order; and the settings that make a campaign public."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from chalicelib.config import MissingSettingError, load_settings
from chalicelib.domain.campaigns import Progress, donor_of
from chalicelib.services.totals import StoredContribution, apply_gift
from tests.campaign_data import CURRENCIES, campaign_names, campaign_stream, expected_progress
from tests.unit.factories import donation
from tests.unit.test_totals import MemoryTotals

PAID = {
    "status": "succeeded",
    "succeeded_at": "2026-03-04T10:00:00.000Z",
    "campaign": "spring",
    "email": "donor@example.org",
}


@settings(max_examples=300, deadline=None)
@given(data=campaign_stream(2100))
def test_progress_equals_the_gift_records_in_any_order_and_with_replays(data: Any) -> None:
    gifts, images = data
    store = MemoryTotals()
    for image in images:
        apply_gift(image, store)
    found = {
        (name, currency): tuple(store.progress(name, currency))
        for name in campaign_names(2100)
        for currency in CURRENCIES
    }
    assert found == expected_progress(gifts, 2100)


def test_one_donor_giving_twice_counts_once_and_a_full_refund_stops_counting() -> None:
    store = MemoryTotals()
    first = donation(**PAID, id="01A", amount=5000, version=1)
    second = donation(**{**PAID, "email": "DONOR@example.org"}, id="01B", amount=2000, version=1)
    apply_gift(first, store)
    apply_gift(second, store)
    assert store.progress("spring", "usd") == Progress(raised=7000, gifts=2, donors=1)
    apply_gift(first.model_copy(update={"refunded": 1500, "version": 2}), store)
    assert store.progress("spring", "usd") == Progress(raised=5500, gifts=2, donors=1)
    apply_gift(first.model_copy(update={"refunded": 5000, "version": 3}), store)
    assert store.progress("spring", "usd") == Progress(raised=2000, gifts=1, donors=1)
    apply_gift(second.model_copy(update={"refunded": 2000, "version": 2}), store)
    assert store.progress("spring", "usd") == Progress(raised=0, gifts=0, donors=0)


def test_a_failed_gift_or_one_lost_to_a_dispute_counts_for_nothing() -> None:
    store = MemoryTotals()
    apply_gift(donation(id="01A", campaign="spring", status="failed", version=1), store)
    lost = donation(**PAID, id="01B", amount=5000, dispute="lost", disputed=5000, version=2)
    apply_gift(lost, store)
    opened = donation(**PAID, id="01C", amount=3000, dispute="open", disputed=3000)
    apply_gift(opened, store)  # an open dispute may still be won: the gift counts meanwhile
    assert store.progress("spring", "usd") == Progress(raised=3000, gifts=1, donors=1)


def test_a_marker_another_gift_moved_meanwhile_is_read_again() -> None:
    store = MemoryTotals()
    store.markers[("spring", "usd", donor_of("donor@example.org"))] = 0
    store.lose_next_race = True
    apply_gift(donation(**PAID, id="01A", version=1), store)
    assert store.progress("spring", "usd") == Progress(raised=5000, gifts=1, donors=1)


def test_a_contribution_from_before_campaign_progress_adds_its_share_once() -> None:
    store = MemoryTotals()
    gift = donation(**PAID, id="01A", version=4)
    apply_gift(gift, store)
    cells = store.contributions_by_id["01A"].cells
    store.contributions_by_id["01A"] = StoredContribution(4, cells, None, share_kept=False)
    store.campaigns.clear()
    store.markers.clear()
    assert apply_gift(gift, store) is True  # a backfill of the same version adds only the share
    assert apply_gift(gift, store) is False
    assert store.progress("spring", "usd") == Progress(raised=5000, gifts=1, donors=1)
    assert all(f.count == 1 for f in store.totals.values())


BASE = {
    "STEWARD_TABLE_NAME": "t",
    "STEWARD_STRIPE_SECRET_KEY": "sk",
    "STEWARD_STRIPE_PUBLISHABLE_KEY": "pk",
    "STEWARD_STRIPE_WEBHOOK_SECRET": "wh",
    "STEWARD_JWT_ISSUER": "i",
    "STEWARD_JWT_AUDIENCE": "a",
    "STEWARD_JWKS_URL": "http://x",
    "STEWARD_SIGNING_KEY": "s",
    "STEWARD_IDENTITY_KEY": "k",
}


def test_campaigns_are_read_from_their_setting() -> None:
    assert load_settings(BASE).campaigns == ()
    text = "spring-appeal=Spring appeal=5000000=usd; gala-2026 = Gala night = 250000 = usd"
    loaded = load_settings({**BASE, "STEWARD_CAMPAIGNS": text}).campaigns
    assert [(c.id, c.title, c.goal, c.currency) for c in loaded] == [
        ("spring-appeal", "Spring appeal", 5000000, "usd"),
        ("gala-2026", "Gala night", 250000, "usd"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "spring=Spring=5000",  # no currency
        "Spring Appeal=Spring=5000=usd",  # an id that is not a slug
        "spring=Spring=50.00=usd",  # a goal not in minor units
        "spring=Spring=0=usd",  # no goal
        "spring=Spring=5000=eur",  # a currency the forms do not take
        "spring=Spring=5000=usd;spring=Again=10=usd",  # one id twice
    ],
)
def test_a_campaign_setting_that_cannot_be_right_stops_at_start(text: str) -> None:
    with pytest.raises(MissingSettingError, match="STEWARD_CAMPAIGNS"):
        load_settings({**BASE, "STEWARD_CAMPAIGNS": text})
