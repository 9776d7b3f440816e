"""Drive the app's stream handler from DynamoDB Local's stream, as Lambda does on AWS, and
run the retry sweep every few seconds (on AWS an EventBridge schedule does).

A batch whose handler raises is treated the way the deployed event source is configured
(infra/resources.json): split in halves and retried, each single record up to
RETRY_ATTEMPTS more times, then handed to the on-failure destination (here: one JSON line
in the log, tagged "stream on-failure") so the shard moves on."""

from __future__ import annotations

import json
import os
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from chalice.local import LambdaContext

from devstack import call_log

SWEEP_SECONDS = 3.0
DONATION_SWEEP_SECONDS = 60.0
POLL_SECONDS = 0.25
RETRY_ATTEMPTS = 2  # MaximumRetryAttempts of the deployed event source
RETRY_PAUSE_SECONDS = 0.5
# An iterator DynamoDB Local no longer honours (it trims a fresh stream when another table is
# created, for one): read the shard again from its oldest record. Handlers are idempotent.
STALE_ITERATOR = {"TrimmedDataAccessException", "ExpiredIteratorException"}
# Handlers see the deployed function's time limit, as they do on Lambda.
CHALICE_CONFIG = json.loads((Path(__file__).resolve().parent.parent / ".chalice" / "config.json").read_text())
LAMBDA_TIMEOUT_MS = 1000 * int(CHALICE_CONFIG["lambda_timeout"])


def context(name: str) -> LambdaContext:
    own = CHALICE_CONFIG.get("lambda_functions", {}).get(name, {})
    return LambdaContext(
        name, 256, max_runtime_ms=1000 * int(own.get("lambda_timeout", LAMBDA_TIMEOUT_MS // 1000))
    )


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
        call_log.install(session.events)  # only when the test suite asks for it
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
                self.iterators[shard_id] = self._iterator(shard_id, kind)

    def _iterator(self, shard_id: str, kind: str) -> str:
        return str(
            self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=kind
            )["ShardIterator"]
        )

    def poll(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard_id, iterator in list(self.iterators.items()):
            if iterator is None:
                continue
            try:
                response = self.streams.get_records(ShardIterator=iterator, Limit=100)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in STALE_ITERATOR:
                    raise
                print(
                    f"stream shard {shard_id}: {exc.response['Error']['Code']}; reading it again", flush=True
                )
                response = self.streams.get_records(
                    ShardIterator=self._iterator(shard_id, "TRIM_HORIZON"), Limit=100
                )
            self.iterators[shard_id] = response.get("NextShardIterator")
            records.extend(lambda_record(r, self.stream_arn) for r in response.get("Records", []))
        return records


def _name(handler: Any) -> str:
    """The function a stream handler is (chalice wraps it; the wrapped one has the name)."""
    return str(getattr(getattr(handler, "func", handler), "__name__", "outbox_stream"))


def log_failure(record: dict[str, Any]) -> None:
    """The local on-failure destination. Lambda sends SQS where the record is in the stream,
    not its images (a gift's address and name); this line names the record, its key and its
    place in the stream."""
    change = record.get("dynamodb", {})
    where = {name: change[name] for name in ("Keys", "SequenceNumber") if name in change}
    handed = {name: record[name] for name in ("eventID", "eventName", "eventSourceARN") if name in record}
    print("stream on-failure", json.dumps({**handed, "dynamodb": where}, default=str), flush=True)


def run_batch(
    handler: Any,
    records: list[dict[str, Any]],
    on_failure: Callable[[dict[str, Any]], None] = log_failure,
    retries: int = RETRY_ATTEMPTS,
    pause: float = RETRY_PAUSE_SECONDS,
) -> None:
    """Invoke the handler on a batch as Lambda does with BisectBatchOnFunctionError: a failed
    batch is split in two and each half invoked; one record is retried `retries` times, then
    handed to on_failure. Every record ends handled or handed over; nothing stalls the shard."""
    for attempt in range(retries + 1 if len(records) == 1 else 1):
        try:
            result = handler({"Records": records}, context(_name(handler)))
        except Exception:
            traceback.print_exc()
            if attempt < retries and len(records) == 1:
                time.sleep(pause)
        else:
            print("stream", result, flush=True)
            return
    if len(records) == 1:
        on_failure(records[0])
        return
    half = len(records) // 2
    run_batch(handler, records[:half], on_failure, retries, pause)
    run_batch(handler, records[half:], on_failure, retries, pause)


STREAM_HANDLERS = ("outbox_stream", "totals_stream", "export_stream")


def step(poller: Poller, *stream_handlers: Any) -> list[dict[str, Any]]:
    """Each handler gets every record, as each deployed function reads the stream on its own
    (their event filters are checked again in the handlers)."""
    records = poller.poll()
    if records:
        for handler in stream_handlers:
            run_batch(handler, records)
    return records


def run_scheduled(app: Any, name: str) -> None:
    """Invoke one scheduled handler as EventBridge would; a failure is printed, not raised."""
    try:
        result = app.handler_map[name](scheduled_event(), context(name))
    except Exception:
        traceback.print_exc()
    else:
        if any(result.values()):
            print(name, result, flush=True)


def main() -> None:
    call_log.install()  # the app's own clients, when the test suite asks for it
    from app import app  # the same handlers Lambda runs

    stream_handlers = [app.handler_map[name] for name in STREAM_HANDLERS]
    poller = Poller(os.environ["STEWARD_TABLE_NAME"], os.environ["STEWARD_DYNAMODB_ENDPOINT"])
    poller.refresh_shards()
    print("stream poller ready", flush=True)
    last_sweep = last_refresh = time.monotonic()
    last_donation_sweep = 0.0
    while True:
        try:
            records = step(poller, *stream_handlers)
        except Exception:  # reading the stream failed: keep driving; the sweeps below recover
            traceback.print_exc()
            records = []
            time.sleep(1)
        now = time.monotonic()
        if now - last_sweep > SWEEP_SECONDS:
            last_sweep = now
            run_scheduled(app, "signup_sweep")
            run_scheduled(app, "outbox_sweep")
        if now - last_donation_sweep > DONATION_SWEEP_SECONDS:
            last_donation_sweep = now
            run_scheduled(app, "donation_sweep")
        if now - last_refresh > 30:
            poller.refresh_shards()
            last_refresh = now
        time.sleep(POLL_SECONDS if not records else 0)


if __name__ == "__main__":
    main()
