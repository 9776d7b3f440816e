"""Records the DynamoDB operations a process makes, so the test suite can show that no
request path ever Scans.

With STEWARD_RECORD_DYNAMODB_CALLS=<file> set, `install()` hooks botocore's
`before-call.dynamodb.*` event on boto3's default session (the clients the app builds in
chalicelib/bootstrap.py); `watch()` hooks any other session (the stream poller's). Each
call appends one line, `<pid> <operation>`, to the file; lines this short are written
whole by O_APPEND, so processes can share one file. Local and test use only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ENV = "STEWARD_RECORD_DYNAMODB_CALLS"
EVENT = "before-call.dynamodb"


def watch(events: Any, path: str | Path) -> None:
    """Append every DynamoDB operation made through clients of this event system to `path`."""
    target = str(path)

    def record(model: Any, **_: Any) -> None:
        line = f"{os.getpid()} {model.name}\n".encode()
        descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)

    events.register(EVENT, record, unique_id=f"steward-call-log-{target}")


def install(events: Any | None = None) -> bool:
    """Record to the file the environment names, if it names one; True when recording."""
    path = os.environ.get(ENV)
    if not path:
        return False
    if events is None:
        import boto3

        events = boto3._get_default_session().events
    watch(events, path)
    return True


def operations(path: str | Path) -> list[tuple[int, str]]:
    """The (pid, operation) lines recorded so far."""
    file = Path(path)
    if not file.exists():
        return []
    lines = (line.split(" ", 1) for line in file.read_text().splitlines() if line)
    return [(int(pid), name) for pid, name in lines]
