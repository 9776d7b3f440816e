"""shard_merge over in-memory shards: page after page, the merge gives every item once, in
sort order across the shards, whatever the page size and Query budget, with items arriving
(sorted last) between pages."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.shard_merge import merge


class Shards:
    """Sorted shards answering Queries as DynamoDB does: Limit items after a position, and
    the last one read as LastEvaluatedKey while more may follow."""

    def __init__(self, count: int) -> None:
        self.items: dict[str, list[str]] = {f"p{n}": [] for n in range(count)}
        self.queries = 0

    def add(self, partition: str, value: str) -> None:
        self.items[partition] = sorted([*self.items[partition], value])

    def query(self, partition: str, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        self.queries += 1
        rest = [v for v in self.items[partition] if after is None or v > after]
        read = rest[:limit]
        return [{"sk": v} for v in read], (read[-1] if len(rest) > limit else None)


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
