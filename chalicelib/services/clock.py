"""UTC ISO-8601 timestamps with millisecond precision, sortable as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# What services take to read the time: a function answering utc_now()'s format.
Clock = Callable[[], str]


def utc_now() -> str:
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (f"{moment.microsecond // 1000:03d}Z")


def seconds_before(timestamp: str, seconds: int) -> str:
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return format_time(moment - timedelta(seconds=seconds))


def seconds_after(timestamp: str, seconds: int) -> str:
    return seconds_before(timestamp, -seconds)


def epoch_seconds(timestamp: str) -> int:
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp())
