"""Which index a gift-list query reads (the most selective its filters allow), and a donor's
totals as pure functions."""

from __future__ import annotations

import pytest

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo_find import choose_plan
from chalicelib.adapters.dynamo_tx import donation_values
from chalicelib.domain.finding import GiftFilter, donor_totals
from tests.unit.factories import donation

DATES = ("2026-12-01T00:00:00.000Z", "2026-12-31T23:59:59.999Z~")


@pytest.mark.parametrize(
    ("filters", "index", "filtered"),
    [
        (GiftFilter(), "gsi1", ["#status <> :abandoned"]),
        (GiftFilter(status="refunded"), "gifts_by_status", []),
        (GiftFilter(status="succeeded", fund="peace"), "gifts_by_fund", ["#display = :display"]),
        (
            GiftFilter(fund="peace", campaign="c"),
            "gifts_by_campaign",
            ["#fund = :fund", "#status <> :abandoned"],
        ),
        (
            GiftFilter(email="a@b.org", campaign="c"),
            "gifts_by_donor",
            ["#campaign = :campaign", "#status <> :abandoned"],
        ),
        (GiftFilter(status="failed", min_amount=5), "gifts_by_status", ["#amount >= :min_amount"]),
        (
            GiftFilter(fund="peace", max_amount=5),
            "gifts_by_amount",
            ["#created BETWEEN", "#fund = :fund", "#status <> :abandoned"],
        ),
        (GiftFilter(frequency="installment"), "gifts_by_installment", ["#status <> :abandoned"]),
        (
            GiftFilter(frequency="annual"),
            "gifts_by_installment",
            ["#frequency = :frequency", "#status <> :abandoned"],
        ),
        (GiftFilter(frequency="one_time"), "gsi1", ["#frequency = :frequency", "#status <> :abandoned"]),
        (GiftFilter(status="succeeded"), "gifts_by_status", []),
        (GiftFilter(status="paid"), "gsi1", ["#status = :paid"]),
        (GiftFilter(status="paid", fund="peace"), "gifts_by_fund", ["#status = :paid"]),
    ],
)
def test_a_query_reads_the_most_selective_index(filters: GiftFilter, index: str, filtered: list[str]) -> None:
    plan = choose_plan(filters, *DATES, include_abandoned=False)
    assert plan.index == index
    assert len(plan.conditions) == len(filtered)
    assert all(c.startswith(f) for c, f in zip(plan.conditions, filtered, strict=True))


def test_a_gift_carries_the_keys_of_every_index_that_should_find_it() -> None:
    gift = donation(
        id="01J0000000000000000000000A",
        created_at="2026-12-31T23:00:00.000Z",
        email="Ann@Example.ORG",
        fund="peace",
        campaign="eoy",
        amount=2500,
        frequency="monthly",
        status="succeeded",
        refunded=100,
    )
    values = donation_values(gift)
    shard = lambda key: f"{key}#{keys.find_shard_number(gift.id):02d}"  # noqa: E731
    assert values["gsi1pk"] == shard("DONATIONS#2026-12")
    assert values["amount_pk"] == shard("AMOUNT#2026-12")
    assert values["status_pk"] == shard("STATUS#partially_refunded#2026-12")
    assert values["fund_pk"] == shard("FUND#peace#2026-12")
    assert values["campaign_pk"] == shard("CAMPAIGN#eoy#2026-12")
    assert values["installment_pk"] == shard("INSTALLMENTS#2026-12")
    assert values["donor_pk"] == "DONOR#ann@example.org"
    assert values["amount_sk"] == "000000002500#2026-12-31T23:00:00.000Z#01J0000000000000000000000A"
    one_time = donation_values(donation(frequency="one_time", campaign=None))
    assert "installment_pk" not in one_time and "campaign_pk" not in one_time


def test_donor_totals_count_paid_gifts_by_currency_and_year_paid() -> None:
    gifts = [
        donation(amount=1000, status="succeeded", succeeded_at="2026-01-01T00:00:00.000Z", refunded=300),
        donation(amount=500, status="succeeded", succeeded_at="2025-12-31T23:59:59.999Z"),
        donation(amount=700, status="succeeded", currency="eur", created_at="2026-05-01T00:00:00.000Z"),
        donation(amount=9999, status="failed"),
        donation(amount=9999, status="pending"),
    ]
    totals = {t.currency: t for t in donor_totals(gifts, "2026")}
    assert (totals["usd"].lifetime.gross, totals["usd"].lifetime.refunded, totals["usd"].lifetime.net) == (
        1500,
        300,
        1200,
    )
    assert (totals["usd"].year_to_date.gross, totals["usd"].year_to_date.net) == (1000, 700)
    assert totals["eur"].year_to_date.count == 1
    assert list(totals) == ["eur", "usd"]
