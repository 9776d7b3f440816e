"""The sharded pending outbox (keys.outbox_pending): the staff list pages every shard and the
key used before sharding, one Query per shard, each email once; the sweep merges them by
due time; a cursor is taken back only by the list that made it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters import keys, shards
from chalicelib.adapters.dynamo import to_item
from chalicelib.domain.ids import new_id
from chalicelib.domain.outreach import OutboxRecord
from tests.helpers import Api
from tests.integration.test_errors import assert_error_shape

FAR = "2998-06-01T00:00:00.000Z"  # due long after any other test's email, so no sweep takes these


class Counting:
    """The repository's own client, counting its Queries."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.queries = inner, 0

    def query(self, **kwargs: Any) -> Any:
        self.queries += 1
        return self.inner.query(**kwargs)


@pytest.fixture
def queued(outreach: Any) -> Iterator[list[str]]:
    """30 emails waiting, due one second apart: most in their shard, 3 under the old single key."""
    ids = []
    for n in range(30):
        message_id = new_id()
        due = f"2998-06-01T00:00:{n:02d}.000Z"
        item = {
            **keys.outbox(message_id),
            "entity": "outbox",
            "id": message_id,
            "template": "contact_ack",
            "to": f"shard-{n}@example.org",
            "created_at": FAR,
            "context": {"name": "Amara"},
            "status": "pending",
            "attempts": 1,
            "lease_until": due,  # held: neither the stream nor the stack's sweep sends it
            "gsi1pk": keys.OUTBOX_PENDING if n % 10 == 0 else keys.outbox_pending(message_id),
            "gsi1sk": f"{due}#{message_id}",
        }
        outreach.client.put_item(TableName=outreach.table, Item=to_item(item))
        ids.append(message_id)
    yield ids
    for message_id in ids:
        outreach.client.delete_item(TableName=outreach.table, Key=to_item(keys.outbox(message_id)))


def test_the_staff_list_pages_every_shard_and_the_old_key_each_email_once(
    api: Api, token: Any, queued: list[str]
) -> None:
    admin, cursor, pages = token("admin"), None, 0
    seen: list[str] = []
    while True:
        params = {"status": "pending", "limit": 7} | ({"cursor": cursor} if cursor else {})
        answer = api.get("/staff/outbox", admin, **params)
        assert answer.status_code == 200, answer.text
        seen += [item["id"] for item in answer.json()["items"]]
        pages += 1
        cursor = answer.json()["cursor"]
        if not cursor:
            break
    mine = [i for i in seen if i in set(queued)]
    assert sorted(mine) == sorted(queued) and len(seen) == len(set(seen))


def test_a_listing_reads_each_shard_with_one_query_per_page_it_fills(
    outreach: Any, queued: list[str]
) -> None:
    client, partitions = Counting(outreach.client), keys.outbox_pending_partitions()
    page = shards.query_shards(client, outreach.table, partitions, 1000, None, OutboxRecord, keys.outbox)
    assert page.cursor is None and set(queued) <= {m.id for m in page.items}
    assert client.queries == len(partitions)


def test_the_sweep_takes_the_earliest_due_across_shards(outreach: Any, queued: list[str]) -> None:
    due = outreach.due_outbox("2998-06-01T00:00:29.000Z", 1000)
    mine = [i for i in due if i in set(queued)]
    assert mine == queued  # in due order, the old key's among the shards'


def test_a_pending_list_cursor_is_refused_by_another_query_or_out_of_range(
    api: Api, token: Any, queued: list[str]
) -> None:
    admin = token("admin")
    cursor = api.get("/staff/outbox", admin, status="pending", limit=1).json()["cursor"]
    assert cursor
    data = json.loads(base64.urlsafe_b64decode(cursor))
    for forged in ({**data, "s": keys.OUTBOX_SHARDS + 1}, {**data, "s": True}, {**data, "s": "0"}):
        bad = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        error = assert_error_shape(api.get("/staff/outbox", admin, status="pending", cursor=bad), 422)
        assert [f["field"] for f in error["fields"]] == ["cursor"]
    failed = api.get("/staff/outbox", admin, status="failed", cursor=cursor)
    assert [f["field"] for f in assert_error_shape(failed, 422)["fields"]] == ["cursor"]
