"""Reading a write-sharded key in sort order: one Query per shard, merged by sort key.

Each shard is read a few items at a time and only when the merge needs it: the shard whose
next unread position is the lowest is the one Queried. Since the merge takes items strictly
in order, every shard has been read through the last item taken, so one sort value (the
position) says where all of them resume; a gift that arrives later sorts after it (it is
created now) and is read when the merge gets there.

A read of a whole period (the export) takes `stream` instead: each shard is read to its end in
pages of whatever DynamoDB returns (1 MB), and the shards' items are merged lazily (heapq), so
nothing is read twice or thrown away, and one page per shard is held at once.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]
# (partition, resume after this sort value or from the start, Limit or none, read no further
#   than this sort value or to the range's end) -> (items, LastEvaluatedKey's sort value)
ShardQuery = Callable[[str, str | None, int | None, str | None], tuple[list[Item], str | None]]


@dataclass
class _Shard:
    partition: str
    start: str | None  # read through this sort value
    taken: int = 0  # items of this page the merge took from it
    unread: deque[Item] = field(default_factory=deque)
    exhausted: bool = False


@dataclass
class Merged:
    items: list[Item]
    position: str | None  # every shard is read through this sort value
    done: bool  # every shard is read to its end
    queries: int


def merge(
    query: ShardQuery,
    partitions: list[str],
    sort_of: Callable[[Item], str],
    after: str | None,
    want: int,
    budget: int,
) -> Merged:
    """Up to `want` items after `after`, in sort order across the partitions, with at most
    `budget` Queries. A shard is read what it is likely to give of what the page still lacks:
    the lack times its share of the items taken so far (counting one more for each shard
    still read, so a first Query reads lacking / shards), and no further than `_bound`
    allows. What is read past the page's last
    item is read again by the next page, so this reads ahead little; and a shard holding most
    items (the key from before sharding) soon gets most of the lack, not a few items a Query."""
    shards = [_Shard(partition, after) for partition in partitions]
    items: list[Item] = []
    position, queries = after, 0
    while len(items) < want:
        heads = [(head, n) for n, shard in enumerate(shards) if (head := _head(shard, sort_of)) is not None]
        if not heads:
            break
        (value, needs_query), n = min(heads)
        shard = shards[n]
        if not needs_query:
            item = shard.unread.popleft()
            if value != position:  # an index briefly holding a moved gift twice gives it once
                items.append(item)
                shard.taken += 1
            position = value
            continue
        if queries >= budget:
            return Merged(items, value or position, False, queries)
        queries += 1
        lacking, reading = want - len(items), sum(not s.exhausted for s in shards)
        likely = -(-lacking * (shard.taken + 1) // (len(items) + reading))
        through = _bound(shards, shard, sort_of, lacking)
        read, last = query(shard.partition, shard.start, min(want, likely), through)
        shard.unread.extend(read)
        if last is None and through is not None:  # read through the bound, not to its end
            last = through
        shard.start, shard.exhausted = last, last is None
    done = all(shard.exhausted and not shard.unread for shard in shards)
    return Merged(items, position, done, queries)


def _bound(shards: list[_Shard], shard: _Shard, sort_of: Callable[[Item], str], lacking: int) -> str | None:
    """How far a shard need be read at most: when the other shards already hold what the page
    lacks, read but not yet taken, the page ends by the last of those (they sort after this
    shard's position, which is the lowest), so nothing past it is read. None: no such bound."""
    ahead = heapq.nsmallest(
        lacking, (sort_of(item) for other in shards if other is not shard for item in other.unread)
    )
    if len(ahead) < lacking or (shard.start is not None and ahead[-1] <= shard.start):
        return None
    return ahead[-1]


def _head(shard: _Shard, sort_of: Callable[[Item], str]) -> tuple[str, bool] | None:
    """The shard's lowest unread sort value, and whether it takes a Query to see past it:
    its next item read, else where its reading stopped, else nothing (read to the end)."""
    if shard.unread:
        return sort_of(shard.unread[0]), False
    if shard.exhausted:
        return None
    return shard.start or "", True


def stream(query: ShardQuery, partitions: list[str], sort_of: Callable[[Item], str]) -> Iterator[Item]:
    """Every item of the partitions in sort order: each shard read to its end, page after
    page without a Limit, the next page only once the merge has taken the last one's items.
    An index briefly holding a moved gift twice gives it once."""
    last: str | None = None
    for item in heapq.merge(*(_shard_items(query, p) for p in partitions), key=sort_of):
        value = sort_of(item)
        if value != last:
            yield item
        last = value


def _shard_items(query: ShardQuery, partition: str) -> Iterator[Item]:
    start: str | None = None
    while True:
        read, start = query(partition, start, None, None)
        yield from read
        if start is None:
            return
