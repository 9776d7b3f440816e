"""Reading a whole period (the export's read, period_donations) against DynamoDB Local: the
same gifts in the same order as the staff list's pages, across shards, months and the key
from before sharding, each item read once; and list pages reading little past their end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo_base import to_item
from chalicelib.adapters.dynamo_tx import donation_values
from chalicelib.domain.finding import GiftFilter
from tests.integration.test_find_shards import MONTH_KEYS, _gift, _list, _months


class Reads:
    """Queries a client makes and the items they read (ScannedCount)."""

    def __init__(self) -> None:
        self.queries = 0
        self.scanned = 0

    def add(self, parsed: dict[str, Any], **_: Any) -> None:
        self.queries += 1
        self.scanned += int(parsed.get("ScannedCount", 0))


@contextmanager
def counted(client: Any) -> Iterator[Reads]:
    reads = Reads()
    client.meta.events.register("after-call.dynamodb.Query", reads.add, unique_id="period-read")
    try:
        yield reads
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", unique_id="period-read")


def _period(repo: Any, start: str, end: str, size: int, **filters: Any) -> list[str]:
    pages = list(repo.period_donations(start, end, size, filters=GiftFilter(**filters)))
    assert [more for _, more in pages] == [True] * (len(pages) - 1) + [False]
    assert all(len(gifts) == size for gifts, _ in pages[:-1])
    return [gift.id for gifts, _ in pages for gift in gifts]


def test_a_period_read_gives_the_lists_gifts_in_its_order_reading_each_item_once(repo: Any) -> None:
    first, second = _months()
    gifts = [
        _gift(f"{first}-{1 + n % 28:02d}T10:00:{n:02d}.000Z", amount=1000 + 7 * (n % 9)) for n in range(60)
    ]
    gifts += [_gift(f"{second}-{1 + n:02d}T09:00:00.000Z", amount=500 + n) for n in range(25)]
    for gift in gifts:
        repo.create_donation(gift, None)
    old = _gift(f"{first}-05T10:00:09.500Z")  # as the unit of work wrote it before sharding
    item = donation_values(old)
    for name in MONTH_KEYS:
        item[name] = item[name].rpartition("#")[0]
    repo.client.put_item(TableName=repo.table, Item=to_item(item))
    gifts.append(old)
    start, end = f"{first}-01T00:00:00.000Z", f"{second}-28T23:59:59.999Z~"
    oldest_first = [g.id for g in sorted(gifts, key=lambda g: (g.created_at, g.id))]

    with counted(repo.client) as reads:
        assert _period(repo, start, end, 7) == oldest_first
    assert reads.scanned == len(gifts)  # nothing read twice or thrown away
    assert reads.queries == 2 * (keys.FIND_SHARDS + 1)  # one Query per key and month: each fits a page

    listed = repo.list_donations(start, end, 1000, None, filters=GiftFilter())
    streamed = [
        g for gifts, _ in repo.period_donations(start, end, 1000, filters=GiftFilter()) for g in gifts
    ]
    assert listed.cursor is None and streamed == listed.items  # every field, though fewer attributes are read
    for size in (1, 50, 1000):
        assert _period(repo, start, end, size) == oldest_first, size
    for filters in ({"fund": "shards"}, {"campaign": "shards"}, {"status": "succeeded"}, {"min_amount": 1}):
        assert _period(repo, start, end, 9, **filters) == _list(repo, start, end, 9, **filters), filters
    assert _period(repo, start, end, 5, email=gifts[0].email) == _list(
        repo, start, end, 5, email=gifts[0].email
    )


def test_an_empty_period_is_one_empty_last_page(repo: Any) -> None:
    first, _ = _months()
    start, end = f"{first}-01T00:00:00.000Z", f"{first}-28T23:59:59.999Z~"
    assert list(repo.period_donations(start, end, 10, filters=GiftFilter(fund="nowhere"))) == [([], False)]


def test_list_pages_over_the_shards_read_little_past_their_last_gift(repo: Any) -> None:
    first, _ = _months()
    gifts = [
        _gift(f"{first}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:{n % 7:02d}.000Z") for n in range(320)
    ]
    for gift in gifts:
        repo.create_donation(gift, None)
    start, end = f"{first}-01T00:00:00.000Z", f"{first}-28T23:59:59.999Z~"
    with counted(repo.client) as reads:
        found = _list(repo, start, end, 40)
    assert found == [g.id for g in sorted(gifts, key=lambda g: (g.created_at, g.id))]
    # 414 read for 320 found here; 509 when each shard's Limit was its even share, doubled
    assert reads.scanned <= 1.45 * len(gifts), (reads.scanned, reads.queries)
