"""CSV exports over HTTP: a job behind a 202, its file in the local S3 server, downloaded
through the presigned link with plain requests."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import requests

from devstack import s3_bucket
from devstack.stack import Stack
from devstack.stream_poller import lambda_record
from tests.helpers import Api, give, wait_for

SOME_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def post(api: Api, token: str | None, body: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.post("/staff/exports", body, headers=headers)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def ended(api: Api, token: str, export_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        answer = api.get(f"/staff/exports/{export_id}", token)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body if body["status"] != "running" else None

    result: dict[str, Any] = wait_for(check, timeout=30)
    return result


def test_an_export_of_given_gifts_downloads_through_its_presigned_link(api: Api, stack: Stack, token) -> None:
    email = f"export-{uuid.uuid4().hex[:10]}@example.org"
    given = [
        give(
            api,
            stack,
            email=email,
            first_name="=HYPERLINK(1)",
            last_name="\uff0bLovelace",
            campaign="@SUM(1)",
        ),
        give(api, stack, email=email, amount=5000, fund="health-programs", utm_source="-2+3"),
    ]
    assert all(answer.status_code == 200 for _, answer in given), [a.text for _, a in given]
    finance = token("finance")
    answer = post(
        api, finance, {"kind": "donations", "from": today(), "to": today(), "filters": {"email": email}}
    )
    assert answer.status_code == 202, answer.text
    export_id = answer.json()["export_id"]

    state = ended(api, finance, export_id)
    assert state["status"] == "done", state
    assert state["rows"] == 2
    download = requests.get(state["url"], timeout=10)
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    by_id = {row["donation_id"]: row for row in rows}
    assert set(by_id) == {gift_id for gift_id, _ in given}
    first, second = by_id[given[0][0]], by_id[given[1][0]]
    assert first["first_name"] == "'=HYPERLINK(1)"
    assert first["last_name"] == "'\uff0bLovelace"
    assert first["campaign"] == "'@SUM(1)"
    assert second["utm_source"] == "'-2+3"
    assert (first["gross"], second["gross"], second["fund"]) == ("2500", "5000", "health-programs")
    assert first["status"] == first["display_status"] == "succeeded"
    assert first["stripe_payment_intent_id"].startswith("pi_") and first["stripe_charge_id"].startswith("ch_")
    assert (first["frequency"], first["currency"], first["anonymous"], first["address"]) == (
        "one_time",
        "usd",
        "false",
        "",
    )
    assert first["deductible_amount"] == "2500" and first["paid_at"] >= first["created_at"]

    # The audit entry was written with the export: who, when, which filter.
    audit = stack.dynamodb_client().query(  # type: ignore[attr-defined]
        TableName=stack.config.table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
        ExpressionAttributeValues={":pk": {"S": f"EXPORT#{export_id}"}, ":audit": {"S": "AUDIT#"}},
    )["Items"]
    assert len(audit) == 1
    assert email in audit[0]["filters"]["S"] and audit[0]["actor"]["S"]


def test_a_redelivered_stream_record_writes_no_second_file_and_keeps_the_export_done(
    api: Api, stack: Stack, token
) -> None:
    from app import app

    finance = token("finance")
    answer = post(api, finance, {"kind": "donations", "from": today(), "to": today()})
    export_id = answer.json()["export_id"]
    assert ended(api, finance, export_id)["status"] == "done"
    s3 = stack.s3_client()
    before = s3.list_objects_v2(Bucket=stack.config.export_bucket, Prefix="exports/")["Contents"]

    change = {
        "ApproximateCreationDateTime": 1_790_000_000,
        "Keys": {"pk": {"S": f"EXPORT#{export_id}"}, "sk": {"S": "EXPORT"}},
        "SequenceNumber": "1",
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    record = lambda_record({"eventID": "1", "eventName": "INSERT", "dynamodb": change}, "arn:stream")
    result = app.handler_map["export_stream"]({"Records": [record]}, None)
    assert result == {"exports": ["skipped"]}
    after = s3.list_objects_v2(Bucket=stack.config.export_bucket, Prefix="exports/")["Contents"]
    assert after == before
    assert api.get(f"/staff/exports/{export_id}", finance).json()["status"] == "done"


def test_bad_bodies_answer_422_naming_the_field(api: Api, token) -> None:
    finance = token("finance")
    good = {"kind": "donations", "from": "2026-01-01", "to": "2026-01-31"}
    cases = {
        "kind": {**good, "kind": "signups"},
        "from": {**good, "from": "2026-13-01"},
        "to": {k: v for k, v in good.items() if k != "to"},
        "filters.region": {**good, "filters": {"region": "north"}},
        "filters.min_amount": {**good, "filters": {"min_amount": -1}},
        "filters.status": {**good, "filters": {"status": "lost"}},
        "extra": {**good, "extra": 1},
    }
    for field, body in cases.items():
        answer = post(api, finance, body)
        assert answer.status_code == 422, (field, answer.text)
        named = [f["field"] for f in answer.json()["error"]["fields"]]
        assert any(name.startswith(field) for name in named), (field, named)
    backwards = post(api, finance, {**good, "from": "2026-02-01"})
    assert backwards.status_code == 422
    assert api.get(f"/staff/exports/{SOME_ID}", finance).status_code == 404
    assert api.get("/staff/exports/not-an-id", finance).status_code == 404


def test_only_finance_and_admin_export(api: Api, token) -> None:
    body = {"kind": "donations", "from": "2026-01-01", "to": "2026-01-02"}
    assert post(api, None, body).status_code == 401
    for role in ("program:peace-programs", "communications"):
        assert post(api, token(role), body).status_code == 403
        assert api.get(f"/staff/exports/{SOME_ID}", token(role)).status_code == 403
    assert api.get(f"/staff/exports/{SOME_ID}").status_code == 401
    answer = post(api, token("admin"), body)
    assert answer.status_code == 202
    assert ended(api, token("admin"), answer.json()["export_id"])["status"] == "done"


def test_an_export_whose_bucket_is_gone_ends_failed_with_a_reason(api: Api, stack: Stack, token) -> None:
    s3, bucket = stack.s3_client(), stack.config.export_bucket
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)
    try:
        finance = token("finance")
        answer = post(api, finance, {"kind": "donations", "from": today(), "to": today()})
        state = ended(api, finance, answer.json()["export_id"])
    finally:
        s3_bucket.ensure_bucket(s3, bucket)
    assert state["status"] == "failed"
    assert "NoSuchBucket" in state["reason"] and state["url"] is None
