"""The pending outbox queue is spread over OUTBOX_SHARDS partition keys, fixed by the email's id."""

from __future__ import annotations

from collections import Counter

from chalicelib.adapters import keys
from chalicelib.domain.ids import new_id


def test_an_email_keeps_its_shard_and_emails_spread_over_every_shard() -> None:
    ids = [new_id() for _ in range(3200)]
    assert all(keys.outbox_pending(i) == keys.outbox_pending(i) for i in ids[:50])
    spread = Counter(keys.outbox_pending(i) for i in ids)
    assert set(spread) == set(keys.outbox_pending_partitions()[:-1])
    assert max(spread.values()) < 2 * min(spread.values())  # 200 each on average


def test_the_readers_also_read_the_single_key_used_before_sharding() -> None:
    partitions = keys.outbox_pending_partitions()
    assert len(partitions) == keys.OUTBOX_SHARDS + 1 and partitions[-1] == keys.OUTBOX_PENDING
    assert len(set(partitions)) == len(partitions)
