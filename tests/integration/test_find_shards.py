"""The month-partitioned finding indexes, write-sharded (keys.FIND_SHARDS): the staff list
reads every shard of a month and the key used before sharding, and merges them, so pages
stay oldest first (by amount on the amount index) with no gap or duplicate, while gifts
arrive; `steward reindex` moves an older gift onto its shard."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo_base import to_item
from chalicelib.adapters.dynamo_tx import donation_values
from chalicelib.domain.donation import Donation
from chalicelib.services.ports import Repository
from tests.helpers import Api
from tests.integration.test_errors import assert_error_shape
from tests.unit.factories import donation

MONTH_KEYS = ("gsi1pk", "status_pk", "fund_pk", "amount_pk", "campaign_pk", "installment_pk")


def _months() -> tuple[str, str]:
    """Two consecutive months no other test uses (the stack's table lives for the session)."""
    year = random.randint(2800, 2899)
    month = random.randint(1, 11)
    return f"{year}-{month:02d}", f"{year}-{month + 1:02d}"


def _gift(at: str, **overrides: Any) -> Donation:
    values: dict[str, Any] = {
        "created_at": at,
        "updated_at": at,
        "status": "succeeded",
        "succeeded_at": at,
        "fund": "shards",
        "campaign": "shards",
        "frequency": "monthly",
        "recurring_id": "r1",
    }
    return donation(**{**values, **overrides})


def _item(repo: Any, gift: Donation) -> dict[str, Any]:
    return dict(repo.client.get_item(TableName=repo.table, Key=to_item(keys.donation(gift.id)))["Item"])


def _list(repo: Repository, start: str, end: str, limit: int, **filters: Any) -> list[str]:
    from chalicelib.domain.finding import GiftFilter

    found: list[str] = []
    cursor = None
    for _ in range(500):
        page = repo.list_donations(start, end, limit, cursor, filters=GiftFilter(**filters))
        found += [gift.id for gift in page.items]
        cursor = page.cursor
        if cursor is None:
            return found
    raise AssertionError("the cursor never ended")


def test_a_gift_is_written_to_one_shard_of_each_month_key(repo: Repository) -> None:
    first, _ = _months()
    gifts = [_gift(f"{first}-03T10:00:{n:02d}.000Z") for n in range(20)]
    for gift in gifts:
        repo.create_donation(gift, None)
    items = [_item(repo, gift) for gift in gifts]
    for name in MONTH_KEYS:
        values = {item[name]["S"] for item in items}
        assert len(values) > 4, (name, values)  # spread over the shards
        for gift, item in zip(gifts, items, strict=True):
            shard = item[name]["S"].rpartition("#")[2]
            assert shard == f"{keys.find_shard_number(gift.id):02d}", (name, item[name])
    assert items[0]["donor_pk"]["S"] == keys.donations_by_donor(gifts[0].email)  # one donor: not sharded


def test_pages_cross_shards_and_months_in_order_while_gifts_arrive(repo: Repository) -> None:
    first, second = _months()
    gifts = [
        _gift(f"{first}-{1 + n % 28:02d}T10:00:{n:02d}.000Z", amount=1000 + 7 * (n % 9)) for n in range(40)
    ]
    gifts += [_gift(f"{second}-{1 + n:02d}T09:00:00.000Z", amount=500 + n) for n in range(25)]
    for gift in gifts:
        repo.create_donation(gift, None)
    start, end = f"{first}-01T00:00:00.000Z", f"{second}-28T23:59:59.999Z~"
    oldest_first = [g.id for g in sorted(gifts, key=lambda g: (g.created_at, g.id))]
    for filters in (
        {},
        {"fund": "shards"},
        {"campaign": "shards"},
        {"status": "succeeded"},
        {"frequency": "monthly"},
    ):
        for limit in (1, 7, 50) if not filters else (7,):
            assert _list(repo, start, end, limit, **filters) == oldest_first, (filters, limit)
    by_amount = [
        g.id
        for month in (first, second)
        for g in sorted(gifts, key=lambda g: (g.amount, g.created_at, g.id))
        if g.created_at.startswith(month)
    ]
    assert _list(repo, start, end, 6, min_amount=1) == by_amount

    # Gifts that arrive while staff page through (created now, so last) are listed once, at the end.
    from chalicelib.domain.finding import GiftFilter

    found: list[str] = []
    arrived: list[Donation] = []
    cursor = None
    for n in range(200):
        page = repo.list_donations(start, end, 4, cursor, filters=GiftFilter())
        found += [gift.id for gift in page.items]
        cursor = page.cursor
        if cursor is None:
            break
        if n < 10:
            late = _gift(f"{second}-28T10:00:{n:02d}.000Z")
            repo.create_donation(late, None)
            arrived.append(late)
    assert found == oldest_first + [g.id for g in arrived]


def test_an_older_unsharded_gift_is_listed_with_the_sharded_ones_until_reindex_moves_it(
    api: Api, token: Any, repo: Any
) -> None:
    from chalicelib.adapters.dynamo_reindex import Reindexed, reindex_month

    first, _ = _months()
    sharded = [_gift(f"{first}-05T10:00:{n:02d}.000Z") for n in range(0, 20, 2)]
    for gift in sharded:
        repo.create_donation(gift, None)
    old = _gift(f"{first}-05T10:00:09.000Z", version=3)
    item = donation_values(old)
    for name in MONTH_KEYS:  # as the unit of work wrote it before sharding
        item[name] = item[name].rpartition("#")[0]
    repo.client.put_item(TableName=repo.table, Item=to_item(item))
    expected = [g.id for g in sorted([*sharded, old], key=lambda g: g.created_at)]
    start, end = f"{first}-01T00:00:00.000Z", f"{first}-28T23:59:59.999Z~"
    for filters in (
        {},
        {"fund": "shards"},
        {"campaign": "shards"},
        {"status": "succeeded"},
        {"min_amount": 1},
    ):
        assert _list(repo, start, end, 3, **filters) == expected, filters
    finance = token()
    answer = api.get(
        "/staff/donations", finance, **{"from": f"{first}-01", "to": f"{first}-28", "limit": 100}
    )
    assert [g["id"] for g in answer.json()["items"]] == expected

    run = Reindexed()
    reindex_month(repo.client, repo.table, first, run)
    assert (run.gifts, run.updated) == (len(expected), 1)
    moved = _item(repo, old)
    assert all(moved[name]["S"].endswith(f"#{keys.find_shard_number(old.id):02d}") for name in MONTH_KEYS)
    assert moved["version"] == {"N": "3"}
    for filters in ({}, {"fund": "shards"}, {"min_amount": 1}):
        assert _list(repo, start, end, 3, **filters) == expected, filters
    again = Reindexed()
    reindex_month(repo.client, repo.table, first, again)
    assert (again.gifts, again.updated) == (len(expected), 0)


@pytest.mark.parametrize(
    "position",
    [
        {"k": {"gsi1sk": {"S": "x"}}},  # DynamoDB's key shape, not a merge position
        {"k": 7},
        {"k": "no-id-here"},
        {"k": "1990-01-01T00:00:00.000Z#x"},  # before the range
        {"k": "2999-01-01T00:00:00.000Z#x"},  # after the range
        {"m": "2100-13"},
        {"q": "0" * 32},
    ],
)
def test_a_tampered_merge_cursor_is_refused_naming_the_cursor(
    api: Api, token: Any, repo: Repository, position: dict[str, Any]
) -> None:
    first, _ = _months()
    for n in range(3):
        repo.create_donation(_gift(f"{first}-07T10:00:{n:02d}.000Z"), None)
    finance = token()
    query = {"from": f"{first}-01", "to": f"{first}-28", "limit": 1}
    cursor = api.get("/staff/donations", finance, **query).json()["cursor"]
    real = json.loads(base64.urlsafe_b64decode(cursor))
    assert isinstance(real["k"], str) and real["m"] == first
    tampered = base64.urlsafe_b64encode(json.dumps({**real, **position}).encode()).decode()
    error = assert_error_shape(api.get("/staff/donations", finance, **query, cursor=tampered), 422)
    assert [f["field"] for f in error["fields"]] == ["cursor"]
