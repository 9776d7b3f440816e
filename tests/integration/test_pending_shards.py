"""The sharded pending index (gsi2, keys.pending_donations) in DynamoDB Local: the sweep's
query finds gifts in every shard and under the single key used before sharding, earliest
created first."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import to_item
from chalicelib.adapters.dynamo_tx import donation_values
from tests.helpers import store
from tests.unit.factories import donation

# Created in the future, so the stack's own sweep (gifts pending for an hour) leaves them be.
LATER = "2990-01-01T00:00:{:02d}.000Z"


def test_the_sweep_query_reads_every_shard_and_the_old_key(repo: Any) -> None:
    sharded = [donation(created_at=LATER.format(n)) for n in range(1, 40, 2)]
    old = donation(created_at=LATER.format(20))
    for gift in sharded:
        store(repo, gift, None)  # type: ignore[arg-type]
    item = donation_values(old)
    item["gsi2pk"] = "PENDING#NOSETUP"  # as the unit of work wrote it before sharding
    repo.client.put_item(TableName=repo.table, Item=to_item(item))
    try:
        assert len({keys.pending_donations(False, g.id) for g in sharded}) > 1
        found = repo.pending_donations(False, "2990-01-01T00:01:00.000Z", 1000)
        mine = [g.id for g in found if g.created_at.startswith("2990")]
        expected = sorted([*sharded, old], key=lambda g: g.created_at)
        assert mine == [g.id for g in expected]
        assert [
            g.id for g in repo.pending_donations(False, LATER.format(20), 1000) if g.created_at >= "2990"
        ] == [g.id for g in expected if g.created_at < LATER.format(20)]
    finally:
        for gift in [*sharded, old]:
            repo.client.delete_item(TableName=repo.table, Key=to_item(keys.donation(gift.id)))
