"""The local stream poller against DynamoDB Local's real stream: an iterator it stops honouring
does not end the reading."""

from __future__ import annotations

import uuid

from devstack import table
from devstack.stack import Stack
from devstack.stream_poller import Poller


def test_a_trimmed_iterator_is_read_again_and_no_record_is_lost(stack: Stack) -> None:
    client = stack.dynamodb_client()
    name = f"poll-{uuid.uuid4().hex[:8]}"
    table.ensure_table(client, name)
    poller = Poller(name, stack.config.dynamodb_url)
    poller.refresh_shards()
    assert poller.poll() == []  # a fresh, empty stream, read from LATEST

    # DynamoDB Local trims such a stream when another table is created (the tests do it, and
    # so does anyone trying a table beside the app's); every later read then fails.
    table.ensure_table(client, f"poll-other-{uuid.uuid4().hex[:8]}")
    client.put_item(TableName=name, Item={"pk": {"S": "OUTBOX#one"}, "sk": {"S": "OUTBOX"}})  # type: ignore[attr-defined]

    records = poller.poll() + poller.poll()
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["OUTBOX#one"]
    client.put_item(TableName=name, Item={"pk": {"S": "OUTBOX#two"}, "sk": {"S": "OUTBOX"}})  # type: ignore[attr-defined]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in poller.poll()] == ["OUTBOX#two"]
