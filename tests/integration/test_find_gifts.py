"""Finding any gift: every filter of GET /staff/donations, alone and combined, page after
page and month after month, against DynamoDB Local's indexes (each filter is a Query)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.domain.donation import Donation
from chalicelib.services.ports import Repository
from tests.helpers import Api, store
from tests.unit.factories import donation

FUNDS = ("where-needed-most", "peace-programs", "health-programs")


def _gift(at: str, **overrides: Any) -> Donation:
    values: dict[str, Any] = {"created_at": at, "updated_at": at, "fund": FUNDS[0], "status": "succeeded"}
    if overrides.get("status", "succeeded") == "succeeded":
        values["succeeded_at"] = at
    return donation(**{**values, **overrides})


def _all(api: Api, finance: str, **query: Any) -> list[str]:
    """Every gift id the list answers for the query, following its cursor."""
    found: list[str] = []
    cursor = None
    for _ in range(200):
        params = {**query, **({"cursor": cursor} if cursor else {})}
        answer = api.get("/staff/donations", finance, **params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += [item["id"] for item in body["items"]]
        cursor = body["cursor"]
        if not cursor:
            return found
    raise AssertionError("the cursor never ended")


@pytest.fixture(scope="module")
def february(repo: Repository) -> list[Donation]:
    """A month of varied gifts of their own (2021-02), one campaign and donor shared by a few."""
    tag = uuid.uuid4().hex[:8]
    donor = f"Finder-{tag}@Example.org"
    kinds: list[dict[str, Any]] = [
        {"amount": 1000},
        {"amount": 2500, "fund": FUNDS[1], "campaign": f"spring-{tag}"},
        {"amount": 10000, "fund": FUNDS[1], "email": donor},
        {"amount": 5000, "frequency": "monthly", "recurring_id": "r1", "email": donor},
        {"amount": 7500, "frequency": "annual", "recurring_id": "r2", "fund": FUNDS[2]},
        {"amount": 3000, "status": "failed", "campaign": f"spring-{tag}"},
        {"amount": 4000, "status": "pending", "email": donor.lower()},
        {"amount": 4500, "status": "abandoned"},
        {"amount": 6000, "refunded": 1000, "campaign": f"spring-{tag}", "email": donor},
        {"amount": 6500, "refunded": 6500, "fund": FUNDS[1]},
        {"amount": 8000, "dispute": "open", "currency": "eur"},
        {"amount": 9000, "dispute": "lost", "frequency": "monthly", "recurring_id": "r3"},
    ]
    gifts = []
    for n, kind in enumerate(kinds):
        gift = _gift(f"2021-02-{1 + n:02d}T12:00:00.000Z", **kind)
        repo.create_donation(gift, None)
        gifts.append(gift)
    return gifts


def _matches(query: dict[str, Any]) -> Callable[[Donation], bool]:
    def match(gift: Donation) -> bool:
        frequency = query.get("frequency")
        return all(
            (
                _status(gift, query.get("status")),
                "fund" not in query or gift.fund == query["fund"],
                "campaign" not in query or gift.campaign == query["campaign"],
                "email" not in query or gift.email.lower() == query["email"].lower(),
                gift.amount >= query.get("min_amount", 0),
                gift.amount <= query.get("max_amount", 10**12),
                frequency is None
                or gift.frequency == frequency
                or (frequency == "installment" and gift.frequency != "one_time"),
            )
        )

    return match


def _status(gift: Donation, status: str | None) -> bool:
    if status is None:
        return gift.status != "abandoned"
    return gift.status == "succeeded" if status == "paid" else gift.display_status == status


def _filters(gifts: list[Donation]) -> list[dict[str, Any]]:
    campaign, donor = gifts[1].campaign, gifts[2].email
    return [
        *({"status": s} for s in ("pending", "succeeded", "failed", "abandoned")),
        *({"status": s} for s in ("partially_refunded", "refunded", "disputed", "dispute_lost", "paid")),
        *({"fund": f} for f in FUNDS),
        {"campaign": campaign},
        *({"frequency": f} for f in ("one_time", "installment", "monthly", "annual")),
        {"email": donor},
        {"email": donor.upper()},
        {"min_amount": 5000},
        {"max_amount": 4000},
        {"min_amount": 4000, "max_amount": 6500},
    ]


def _listed_against_stored(
    api: Api, finance: str, repo: Repository, gifts: list[Donation], query: dict[str, Any], **params: Any
) -> tuple[set[str], list[str]]:
    """What the query should find, from the gifts as stored, and what the list found. The
    stack's abandon sweep may turn the pending gift (years old) abandoned at any moment: a
    listing during which any gift changed is taken again."""
    for _ in range(3):
        before = [repo.get_donation(g.id) for g in gifts]
        found = _all(api, finance, **{"from": "2021-02-01", "to": "2021-02-28"}, **params, **query)
        after = [repo.get_donation(g.id) for g in gifts]
        if before == after:
            return {g.id for g in after if g is not None and _matches(query)(g)}, found
    raise AssertionError("the gifts kept changing while they were listed")


def test_each_filter_alone_answers_exactly_its_gifts(
    api: Api, token, repo: Repository, february: list[Donation]
) -> None:
    finance = token()
    for query in _filters(february):
        expected, found = _listed_against_stored(api, finance, repo, february, query)
        assert set(found) == expected, query
        assert len(found) == len(expected), query


def test_filters_combined_answer_their_intersection(
    api: Api, token, repo: Repository, february: list[Donation]
) -> None:
    finance = token()
    singles = _filters(february)
    combined = 0
    for first, second in itertools.combinations(singles, 2):
        amounts = {"min_amount", "max_amount"}
        if set(first) & set(second) or (amounts & set(first) and amounts & set(second)):
            continue
        query = {**first, **second}
        expected, found = _listed_against_stored(api, finance, repo, february, query, limit=3)
        assert sorted(found) == sorted(expected), query
        combined += 1
    everything = {
        "email": february[2].email,
        "status": "partially_refunded",
        "campaign": february[1].campaign,
        "min_amount": 6000,
        "max_amount": 6000,
        "frequency": "one_time",
        "fund": FUNDS[0],
    }
    assert _all(api, finance, **{"from": "2021-02-01", "to": "2021-02-28"}, **everything) == [february[8].id]
    assert combined > 100


def test_a_filtered_list_pages_across_months_in_order(api: Api, token, repo: Repository) -> None:
    """Thirty gifts over three months (2021-03 to 2021-05) with a shared campaign, donor and
    fund: every index pages them all, two at a time, oldest first (by amount within a month
    on the amount index), with no gift twice."""
    tag = uuid.uuid4().hex[:8]
    email = f"pager-{tag}@example.org"
    gifts = []
    for n in range(30):
        at = f"2021-{3 + n // 10:02d}-{1 + n % 10:02d}T0{n % 3}:00:00.000Z"
        gift = _gift(
            at,
            campaign=f"pages-{tag}",
            email=email,
            fund=FUNDS[2],
            amount=100_000 + (n * 7919) % 1000,
            frequency="annual",
            recurring_id="r",
        )
        repo.create_donation(gift, None)
        gifts.append(gift)
    finance = token()
    dated = {"from": "2021-03-01", "to": "2021-05-31", "limit": 2}
    by_time = [g.id for g in sorted(gifts, key=lambda g: (g.created_at, g.id))]
    mine = {g.id for g in gifts}
    for query in ({"campaign": f"pages-{tag}"}, {"email": email}, {"email": email, "status": "succeeded"}):
        assert _all(api, finance, **dated, **query) == by_time, query
    for query in ({"fund": FUNDS[2]}, {"frequency": "installment"}, {"status": "succeeded"}):
        found = [i for i in _all(api, finance, **dated, **query) if i in mine]
        assert found == by_time, query
    by_amount = [g.id for g in sorted(gifts, key=lambda g: (g.created_at[:7], g.amount, g.created_at, g.id))]
    found = _all(api, finance, **dated, min_amount=100_000, max_amount=100_999)
    assert [i for i in found if i in mine] == by_amount


def test_a_cursor_is_refused_by_the_same_dates_with_another_filter(
    api: Api, token, february: list[Donation]
) -> None:
    finance = token()
    dated = {"from": "2021-02-01", "to": "2021-02-28", "limit": 1}
    cursor = api.get("/staff/donations", finance, **dated, fund=FUNDS[1]).json()["cursor"]
    assert cursor
    assert api.get("/staff/donations", finance, **dated, fund=FUNDS[1], cursor=cursor).status_code == 200
    for other in (
        {},
        {"fund": FUNDS[2]},
        {"fund": FUNDS[1], "status": "succeeded"},
        {"fund": FUNDS[1], "min_amount": 1},
        {"fund": FUNDS[1], "email": february[2].email},
        {"fund": FUNDS[1], "campaign": "x"},
        {"fund": FUNDS[1], "frequency": "one_time"},
    ):
        answer = api.get("/staff/donations", finance, **dated, **other, cursor=cursor)
        assert answer.status_code == 422, other
        assert answer.json()["error"]["fields"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"fund": "not-a-fund"}, "fund"),
        ({"frequency": "weekly"}, "frequency"),
        ({"min_amount": "-1"}, "min_amount"),
        ({"min_amount": "ten"}, "min_amount"),
        ({"min_amount": "500", "max_amount": "100"}, "max_amount"),
        ({"email": "not an email"}, "email"),
        ({"campaign": "two\u2028lines"}, "campaign"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_filter_is_422_naming_it(api: Api, token, query: dict[str, str], field: str) -> None:
    answer = api.get("/staff/donations", token(), **{"from": "2021-02-01", "to": "2021-02-28"}, **query)
    assert answer.status_code == 422, answer.text
    assert [f["field"] for f in answer.json()["error"]["fields"]] == [field]


def test_a_refund_moves_a_gift_between_display_statuses(api: Api, token, repo: Repository) -> None:
    finance = token()
    day = {"from": "2021-06-15", "to": "2021-06-15"}
    gift = _gift("2021-06-15T09:00:00.000Z", amount=4000)
    repo.create_donation(gift, None)

    def listed(status: str) -> list[str]:
        return [i for i in _all(api, finance, **day, status=status) if i == gift.id]

    assert listed("succeeded") == [gift.id]
    partly = gift.model_copy(update={"refunded": 1000, "version": 1})
    store(repo, partly, 0)
    assert (listed("succeeded"), listed("partially_refunded")) == ([], [gift.id])
    whole = partly.model_copy(update={"refunded": 4000, "version": 2})
    store(repo, whole, 1)
    assert (listed("partially_refunded"), listed("refunded")) == ([], [gift.id])
    disputed = whole.model_copy(update={"dispute": "open", "version": 3})
    store(repo, disputed, 2)
    assert (listed("refunded"), listed("disputed")) == ([], [gift.id])


def test_reindex_gives_an_older_gift_its_finding_keys(api: Api, token, repo: Repository) -> None:
    """A gift written before the finding indexes existed (no index keys) is found by them
    once `steward reindex` has given it its keys; a gift that has them is left alone."""
    from chalicelib.adapters.dynamo_base import to_item
    from chalicelib.adapters.dynamo_reindex import Reindexed, reindex_month
    from chalicelib.adapters.keys import donation as donation_key

    client: Any = repo.client  # type: ignore[attr-defined]
    table: str = repo.table  # type: ignore[attr-defined]
    old = _gift("2021-08-08T08:00:00.000Z", fund=FUNDS[1], amount=1234)
    new = _gift("2021-08-09T08:00:00.000Z", fund=FUNDS[1], amount=4321)
    repo.create_donation(old, None)
    repo.create_donation(new, None)
    attributes = ["status", "fund", "amount", "donor"]
    client.update_item(
        TableName=table,
        Key=to_item(donation_key(old.id)),
        UpdateExpression="REMOVE " + ", ".join(f"{a}_pk, {a}_sk" for a in attributes),
    )
    finance = token()
    month = {"from": "2021-08-01", "to": "2021-08-31"}
    assert _all(api, finance, **month, fund=FUNDS[1]) == [new.id]
    run = Reindexed()
    reindex_month(client, table, "2021-08", run)
    assert (run.gifts, run.updated) == (2, 1)
    assert _all(api, finance, **month, fund=FUNDS[1]) == [old.id, new.id]
    assert _all(api, finance, **month, email=old.email, max_amount=1234) == [old.id]
