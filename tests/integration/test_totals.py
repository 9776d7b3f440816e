"""Finance totals against the local stack: aggregates kept by the stream handler in DynamoDB
Local, equal to the sum over the gift records under replays and any order; and end to end,
gifts given over HTTP, refunded and disputed, the poller applying the stream, GET totals."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.services.totals import TotalsStore, apply_gift, report
from devstack.stack import Stack
from tests.helpers import Api, give, wait_for
from tests.stripe_events import dispute
from tests.totals_data import FIELDS, expected_rows, stream

GROUPS = ("day", "month", "fund", "campaign", "frequency")
YEARS = itertools.count(2200)  # each example its own year, so examples never share a cell


def store() -> TotalsStore:
    from chalicelib.bootstrap import get_totals_store

    return get_totals_store()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_totals_in_dynamodb_equal_the_sum_over_the_gift_records(stack: Stack, data: Any) -> None:
    year = next(YEARS)
    gifts, images = data.draw(stream(year))
    totals = store()
    for image in images:
        apply_gift(image, totals)
    for group_by in GROUPS:
        rows = report(group_by, date(year, 1, 1), date(year, 12, 31), totals)  # type: ignore[arg-type]
        assert [r.as_dict() for r in rows] == expected_rows(gifts, group_by), group_by


def totals(api: Api, token: Any, group_by: str, day: str, role: str = "finance") -> Any:
    return api.get("/staff/reports/totals", token(role), **{"from": day, "to": day, "group_by": group_by})


def test_totals_over_http_agree_with_the_gifts_given_refunded_and_disputed(
    api: Api, stack: Stack, token: Any
) -> None:
    campaign = f"totals-{time.time_ns()}"
    ids = []
    for amount in (2500, 4000, 10000):
        donation_id, answer = give(api, stack, amount=amount, campaign=campaign)
        assert answer.status_code == 200 and answer.json()["status"] == "succeeded", answer.text
        ids.append(donation_id)
    headers = {"Authorization": f"Bearer {token('finance')}"}
    refund = api.post(f"/staff/donations/{ids[0]}/refunds", {"amount": 700, "reason": "other"}, headers)
    assert refund.status_code == 201, refund.text
    gift = api.get(f"/staff/donations/{ids[2]}", token("finance")).json()
    opened = dispute(stack.webhook_secret, "created", charge_id=gift["charge_id"], dispute_id=f"du_{ids[2]}",
                     payment_intent_id=gift["payment_intent_id"], amount=gift["amount"])  # fmt: skip
    assert api.post("/webhooks/stripe", raw=opened.payload, headers=opened.headers).status_code == 200

    records = [api.get(f"/staff/donations/{i}", token("finance")).json() for i in ids]
    assert records[0]["refunded"] == 700 and records[2]["dispute"] == "open"
    expected = {
        "group": campaign,
        "currency": "usd",
        "settlement_currency": "usd",
        "count": 3,
        "gross": sum(r["amount"] for r in records),
        "fees": sum(r["fee"] for r in records),
        "net": sum(r["net"] for r in records),
        "refunded": 700,
        "disputed": records[2]["amount"],
    }
    day = records[0]["succeeded_at"][:10]
    assert {r["succeeded_at"][:10] for r in records} == {day}

    def mine() -> Any:
        answer = totals(api, token, "campaign", day)
        assert answer.status_code == 200, answer.text
        rows = [r for r in answer.json()["rows"] if r["group"] == campaign]
        return rows if rows == [expected] else None

    wait_for(mine, timeout=20)
    assert totals(api, token, "campaign", day, role="admin").status_code == 200
    by_day = totals(api, token, "day", day).json()["rows"]
    usd = next(r for r in by_day if r["group"] == day and r["settlement_currency"] == "usd")
    assert all(usd[f] >= expected[f] for f in FIELDS)  # other tests give gifts today too


def test_totals_refuse_bad_queries_naming_the_field(api: Api, token: Any) -> None:
    today = datetime.now(UTC).date().isoformat()
    cases = [
        ({"from": today, "to": today, "group_by": "week"}, "group_by"),
        ({"from": "2026-13-01", "to": today}, "from"),
        ({"to": today}, "from"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, None),
        ({"from": "2000-01-01", "to": "2020-01-01"}, None),
    ]
    for params, field in cases:
        answer = api.get("/staff/reports/totals", token("finance"), **params)
        assert answer.status_code == 422, (params, answer.text)
        fields = [f["field"] for f in answer.json()["error"]["fields"]]
        assert fields and (field is None or field in fields), (params, fields)
    assert (
        api.get("/staff/reports/totals", token("program:media"), **{"from": today, "to": today}).status_code
        == 403
    )
    assert api.get("/staff/reports/totals", None, **{"from": today, "to": today}).status_code == 401


def test_a_backfill_alongside_the_stream_counts_each_gift_once(stack: Stack, repo: Any) -> None:
    from chalicelib.services.totals import backfill
    from devstack.operator import totals_backfill
    from devstack.stack import StackConfig
    from tests.helpers import store as write
    from tests.totals_data import STAMP
    from tests.unit.factories import donation

    gifts = [
        donation(
            status="succeeded",
            amount=1000 * n,
            fund="peace-programs",
            created_at=f"2400-05-0{n}{STAMP}",
            succeeded_at=f"2400-05-0{n}{STAMP}",
            fee=30,
            net=1000 * n - 30,
            settlement_currency="usd",
        )
        for n in range(1, 4)
    ]
    for gift in gifts:
        write(repo, gift, None)  # the stream poller applies them too, at its own pace
    run = backfill(date(2400, 5, 1), f"2400-05-31{STAMP}", repo=repo, store=store())
    assert run.gifts == 3
    assert totals_backfill(StackConfig.from_env(), date(2400, 5, 1)) == 0  # the operator command

    def rows() -> list[dict[str, Any]]:
        return [r.as_dict() for r in report("fund", date(2400, 5, 1), date(2400, 5, 31), store())]

    assert rows() == expected_rows(gifts, "fund")
    time.sleep(2)  # the poller has caught up by now: still each gift once
    assert rows() == expected_rows(gifts, "fund")
