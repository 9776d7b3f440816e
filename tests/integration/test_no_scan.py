"""The suite records every DynamoDB call, in this process and in the API server and stream
poller (tests/conftest.py, devstack/call_log.py), and fails the run on any Scan. These
tests show the recording reaches each process and that a Scan would be seen."""

from __future__ import annotations

import os
from pathlib import Path

import boto3

from devstack import call_log
from devstack.stack import Stack
from tests.helpers import Api


def test_the_run_records_dynamodb_calls_of_this_process_and_the_api_server(
    api: Api, token, stack: Stack
) -> None:
    path = os.environ[call_log.ENV]
    api.get("/staff/donations", token(), **{"from": "2021-01-01", "to": "2021-01-02"})
    api.get("/staff/donors/nobody@example.org", token())
    stack.dynamodb_client().get_item(  # type: ignore[attr-defined]
        TableName=stack.config.table_name, Key={"pk": {"S": "X"}, "sk": {"S": "X"}}
    )
    calls = call_log.operations(path)
    mine = {name for pid, name in calls if pid == os.getpid()}
    others = {name for pid, name in calls if pid != os.getpid()}
    assert "GetItem" in mine
    assert "Query" in others  # the API server answered the list through its own client
    assert "Scan" not in mine | others


def test_a_scan_is_recorded_where_the_hook_watches(stack: Stack, tmp_path: Path) -> None:
    """A Scan through a watched session lands in its log (kept apart from the run's log, so
    this one deliberate Scan does not fail the run)."""
    session = boto3.session.Session()
    log = tmp_path / "calls.log"
    call_log.watch(session.events, log)
    env = stack.app_env()
    client = session.client(
        "dynamodb",
        endpoint_url=env["STEWARD_DYNAMODB_ENDPOINT"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    client.scan(TableName=stack.config.table_name, Limit=1)
    assert [name for _, name in call_log.operations(log)] == ["Scan"]
