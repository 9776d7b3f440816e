"""Drive the app's stream handler from DynamoDB Local's stream, as Lambda does on AWS, and
run the retry sweep every few seconds (on AWS an EventBridge schedule does)."""

from __future__ import annotations

import os
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from chalice.local import LambdaContext

SWEEP_SECONDS = 3.0
POLL_SECONDS = 0.25


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams record in the shape Lambda delivers it."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": os.environ.get("AWS_REGION", "us-east-1"),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


def scheduled_event() -> dict[str, Any]:
    """An EventBridge scheduled event, as the sweep receives it on AWS."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": os.environ.get("AWS_REGION", "us-east-1"),
        "resources": [],
        "detail": {},
    }


class Poller:
    def __init__(self, table: str, endpoint: str) -> None:
        session = boto3.session.Session()
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        self.streams = session.client("dynamodbstreams", endpoint_url=endpoint)
        self.table = table
        self.iterators: dict[str, str | None] = {}
        self.stream_arn = ""

    def refresh_shards(self) -> None:
        self.stream_arn = self.dynamodb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                kind = "TRIM_HORIZON" if self.iterators else "LATEST"
                self.iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=kind
                )["ShardIterator"]

    def poll(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard_id, iterator in list(self.iterators.items()):
            if iterator is None:
                continue
            response = self.streams.get_records(ShardIterator=iterator, Limit=100)
            self.iterators[shard_id] = response.get("NextShardIterator")
            records.extend(lambda_record(r, self.stream_arn) for r in response.get("Records", []))
        return records


def step(poller: Poller, stream_handler: Any) -> list[dict[str, Any]]:
    records = poller.poll()
    if records:
        print("stream", stream_handler({"Records": records}, LambdaContext("outbox_stream", 256)), flush=True)
    return records


def main() -> None:
    from app import app  # the same handlers Lambda runs

    stream_handler = app.handler_map["outbox_stream"]
    sweep_handler = app.handler_map["outbox_sweep"]
    signup_sweep = app.handler_map["signup_sweep"]
    poller = Poller(os.environ["STEWARD_TABLE_NAME"], os.environ["STEWARD_DYNAMODB_ENDPOINT"])
    poller.refresh_shards()
    print("stream poller ready", flush=True)
    last_sweep = last_refresh = time.monotonic()
    while True:
        try:
            records = step(poller, stream_handler)
        except Exception:  # keep driving, as Lambda would retry; the sweep recovers pending mail
            traceback.print_exc()
            time.sleep(1)
            continue
        now = time.monotonic()
        if now - last_sweep > SWEEP_SECONDS:
            last_sweep = now
            try:
                signup_sweep(scheduled_event(), LambdaContext("signup_sweep", 256))
            except Exception:
                traceback.print_exc()
            try:
                result = sweep_handler(scheduled_event(), LambdaContext("outbox_sweep", 256))
            except Exception:
                traceback.print_exc()
            else:
                if result.get("sent"):
                    print("sweep", result, flush=True)
        if now - last_refresh > 30:
            poller.refresh_shards()
            last_refresh = now
        time.sleep(POLL_SECONDS if not records else 0)


if __name__ == "__main__":
    main()
