"""shard_merge over in-memory shards: page after page, the merge gives every item once, in
sort order across the shards, whatever the page size and Query budget, with items arriving
(sorted last) between pages."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.shard_merge import merge, stream


class Shards:
    """Sorted shards answering Queries as DynamoDB does: Limit items after a position, and
    the last one read as LastEvaluatedKey while more may follow."""

    def __init__(self, count: int, page: int = 10**6) -> None:
        self.items: dict[str, list[str]] = {f"p{n}": [] for n in range(count)}
        self.queries = 0
        self.read = 0
        self.page = page  # what one answer holds at most without a Limit (DynamoDB's 1 MB)

    def add(self, partition: str, value: str) -> None:
        self.items[partition] = sorted([*self.items[partition], value])

    def query(
        self, partition: str, after: str | None, limit: int | None, through: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        self.queries += 1
        rest = [
            v
            for v in self.items[partition]
            if (after is None or v > after) and (through is None or v <= through)
        ]
        size = min(self.page, limit or self.page)
        read = rest[:size]
        self.read += len(read)
        return [{"sk": v} for v in read], (read[-1] if len(rest) > size else None)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10**6)), unique_by=lambda t: t[1], max_size=60),
    st.integers(1, 9),
    st.integers(6, 20),
    st.lists(st.integers(0, 4), max_size=8),
)
def test_pages_give_every_item_once_in_order(
    placed: list[tuple[int, int]], want: int, budget: int, arriving: list[int]
) -> None:
    shards = Shards(5)
    for shard, value in placed:
        shards.add(f"p{shard}", f"{value:07d}")
    late = [(f"p{shard}", f"9{n:07d}") for n, shard in enumerate(arriving)]  # created later: last
    found: list[str] = []
    position = None
    for _ in range(400):
        shards.queries = 0
        merged = merge(shards.query, list(shards.items), lambda item: item["sk"], position, want, budget)
        assert shards.queries == merged.queries <= budget
        assert len(merged.items) <= want
        found += [item["sk"] for item in merged.items]
        if merged.done:
            break
        position = merged.position
        if late:
            shards.add(*late.pop(0))
    expected = sorted(value for values in shards.items.values() for value in values)
    assert found == expected


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10**6)), unique_by=lambda t: t[1], max_size=80),
    st.integers(1, 12),
)
def test_a_stream_gives_every_item_once_in_order_reading_each_once(
    placed: list[tuple[int, int]], page: int
) -> None:
    shards = Shards(5, page)
    for shard, value in placed:
        shards.add(f"p{shard}", f"{value:07d}")
    found = [item["sk"] for item in stream(shards.query, list(shards.items), lambda item: item["sk"])]
    assert found == sorted(v for values in shards.items.values() for v in values)
    assert shards.read == len(found)  # nothing read twice or thrown away
    pages = sum(max(1, -(-len(values) // page)) for values in shards.items.values())
    assert shards.queries <= pages + len(shards.items)  # a shard's pages, and one that finds its end


def test_a_stream_reads_a_shard_only_as_the_merge_reaches_it() -> None:
    shards = Shards(2, page=2)
    for n in range(10):
        shards.add(f"p{n % 2}", f"{n:03d}")
    items = stream(shards.query, list(shards.items), lambda item: item["sk"])
    assert [next(items)["sk"] for _ in range(3)] == ["000", "001", "002"]
    assert shards.read <= 6  # two pages of each shard at most, not all ten
    assert [item["sk"] for item in items] == [f"{n:03d}" for n in range(3, 10)]


def test_a_stream_gives_a_gift_an_index_briefly_holds_twice_once() -> None:
    shards = Shards(2)
    for partition, value in (("p0", "a"), ("p0", "b"), ("p1", "b"), ("p1", "c")):
        shards.add(partition, value)
    assert [item["sk"] for item in stream(shards.query, list(shards.items), lambda item: item["sk"])] == [
        "a",
        "b",
        "c",
    ]


def _walk(shards: Shards, want: int) -> tuple[float, int]:
    """Every page of the shards, `want` a page: items read per item found, most Queries a page."""
    found: list[str] = []
    position, most = None, 0
    while True:
        shards.queries = 0
        merged = merge(shards.query, list(shards.items), lambda item: item["sk"], position, want, 51)
        most = max(most, merged.queries)
        found += [item["sk"] for item in merged.items]
        if merged.done:
            break
        position = merged.position
    assert found == sorted(v for values in shards.items.values() for v in values)
    return shards.read / len(found), most


@pytest.mark.parametrize(("want", "reads", "queries"), [(50, 1.4, 40), (200, 1.15, 40)])
def test_pages_over_sixteen_shards_read_little_past_their_last_item(
    want: int, reads: float, queries: int
) -> None:
    rng = random.Random(4)
    shards = Shards(17)  # sixteen shards and the key from before sharding, empty
    for _ in range(2000):
        shards.add(f"p{rng.randrange(16)}", f"{rng.random():.12f}")
    read, most = _walk(shards, want)
    assert (read <= reads, most <= queries) == (True, True), (read, most)


@pytest.mark.parametrize("want", [50, 200])
def test_pages_from_the_key_before_sharding_read_only_what_they_give(want: int) -> None:
    rng = random.Random(5)
    shards = Shards(17)
    for _ in range(2000):
        shards.add("p16", f"{rng.random():.12f}")
    read, most = _walk(shards, want)
    assert (read <= 1.01, most <= 17) == (True, True), (read, most)
