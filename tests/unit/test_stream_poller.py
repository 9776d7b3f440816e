"""The local stream poller treats a failing batch as the deployed event source does: bisect,
retry a bounded number of times, hand the record to the on-failure destination, move on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack import stream_poller


class OneBatch:
    """A stream shard that yields one batch of records, then nothing."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.batches = [records]

    def poll(self) -> list[dict[str, Any]]:
        return self.batches.pop() if self.batches else []


def _records(*ids: str) -> list[dict[str, Any]]:
    return [{"eventID": i, "eventName": "INSERT", "dynamodb": {}} for i in ids]


def test_a_poison_record_is_bisected_out_retried_then_handed_over(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        ids = [r["eventID"] for r in event["Records"]]
        seen.append(ids)
        if "bad" in ids:
            raise ValueError("cannot render")
        return {"sent": len(ids)}

    poller: Any = OneBatch(_records("a", "b", "bad", "c", "d"))
    stream_poller.step(poller, handler)

    handled = {i for ids in seen if "bad" not in ids for i in ids}
    assert handled == {"a", "b", "c", "d"}
    assert sum(ids == ["bad"] for ids in seen) == 1 + stream_poller.RETRY_ATTEMPTS
    assert len(seen) <= 10
    handed = [
        json.loads(line.removeprefix("stream on-failure "))
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("stream on-failure ")
    ]
    assert [r["eventID"] for r in handed] == ["bad"]
    assert stream_poller.step(poller, handler) == []  # the shard moved on


def test_a_record_handed_over_is_logged_by_its_ids_and_keys_not_its_images(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Lambda's on-failure destination gets where the record is in the stream, not its data: the
    local line names the record and its key, never the gift's address or name."""
    image = {"pk": {"S": "DONATION#d1"}, "sk": {"S": "DONATION"}, "email": {"S": "ana@example.org"}}
    record = {
        "eventID": "bad",
        "eventName": "MODIFY",
        "eventSourceARN": "arn:stream",
        "dynamodb": {
            "Keys": {"pk": {"S": "DONATION#d1"}, "sk": {"S": "DONATION"}},
            "NewImage": {**image, "first_name": {"S": "Ana"}},
            "OldImage": image,
            "SequenceNumber": "42",
        },
    }

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise ValueError("cannot apply")

    stream_poller.run_batch(handler, [record], retries=0, pause=0)
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("stream on-failure ")]
    handed = json.loads(line.removeprefix("stream on-failure "))
    assert handed["eventID"] == "bad" and handed["dynamodb"]["SequenceNumber"] == "42"
    assert handed["dynamodb"]["Keys"]["pk"] == {"S": "DONATION#d1"}
    assert "ana@example.org" not in line and "Ana" not in line
