"""Campaign progress against the local stack: gifts given over HTTP, applied by the stream
poller's totals handler, read back from GET /campaigns/{id}; a stream record delivered again;
a refund; unknown and hostile ids; and, with hypothesis, the progress kept in DynamoDB Local
equal to the gift records under replays and any order. The campaigns are configured in
tests/conftest.py (STEWARD_CAMPAIGNS), one per test, since the stack's table lives all session."""

from __future__ import annotations

import itertools
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.services.totals import TotalsStore, apply_gift
from devstack.stack import Stack
from devstack.stream_poller import lambda_record
from tests.campaign_data import CURRENCIES, campaign_names, campaign_stream, expected_progress
from tests.helpers import Api, give, wait_for

YEARS = itertools.count(2300)


def store() -> TotalsStore:
    from chalicelib.bootstrap import get_totals_store

    return get_totals_store()


def progress_reaches(api: Api, campaign: str, raised: int, donors: int) -> requests.Response:
    """The route's answer once the stream handler has applied what the test gave."""

    def reached() -> requests.Response | None:
        answer = api.get(f"/campaigns/{campaign}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return answer if (body["raised"], body["donors"]) == (raised, donors) else None

    return wait_for(reached, timeout=20)  # type: ignore[no-any-return]


def paid(api: Api, stack: Stack, campaign: str, amount: int, email: str) -> str:
    gift_id, answer = give(api, stack, amount=amount, campaign=campaign, email=email)
    assert answer.status_code == 200 and answer.json()["status"] == "succeeded", answer.text
    return gift_id


def test_progress_shows_the_goal_the_amount_raised_and_each_donor_once(api: Api, stack: Stack) -> None:
    paid(api, stack, "progress-test", 2500, "ada@example.org")
    paid(api, stack, "progress-test", 4000, "Ada@Example.org")  # the same donor again
    paid(api, stack, "progress-test", 10000, "grace@example.org")
    give(api, stack, amount=9900, campaign="progress-test", card="4000000000000341")  # declined
    answer = progress_reaches(api, "progress-test", raised=16500, donors=2)
    assert answer.json() == {
        "id": "progress-test",
        "title": "Progress test",
        "goal": 100000,
        "currency": "usd",
        "raised": 16500,
        "donors": 2,
    }
    assert answer.headers["Cache-Control"] == "public, max-age=30"
    public = api.get("/config").headers  # CORS as the other public routes answer it
    assert answer.headers.get("Access-Control-Allow-Origin") == public.get("Access-Control-Allow-Origin")
    assert "example.org" not in answer.text


def test_a_stream_record_delivered_again_counts_once(api: Api, stack: Stack) -> None:
    from app import app

    gift_id = paid(api, stack, "duplicate-test", 3000, "linus@example.org")
    progress_reaches(api, "duplicate-test", raised=3000, donors=1)
    key = {"pk": {"S": f"DONATION#{gift_id}"}, "sk": {"S": "DONATION"}}
    image = stack.dynamodb_client().get_item(TableName=stack.config.table_name, Key=key)["Item"]  # type: ignore[attr-defined]
    change = {
        "ApproximateCreationDateTime": 1_800_000_000,
        "Keys": key,
        "NewImage": image,
        "SequenceNumber": "1",
        "SizeBytes": 900,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    record = lambda_record({"eventID": "1", "eventName": "MODIFY", "dynamodb": change}, "arn:stream")
    for _ in range(3):
        assert app.handler_map["totals_stream"]({"Records": [record, record]}, None) == {"totals_applied": 0}
    body = api.get("/campaigns/duplicate-test").json()
    assert (body["raised"], body["donors"]) == (3000, 1)


def test_a_refund_lowers_the_amount_raised_and_a_full_one_the_donors(
    api: Api, stack: Stack, token: Any
) -> None:
    first = paid(api, stack, "refund-test", 5000, "mary@example.org")
    second = paid(api, stack, "refund-test", 2000, "ken@example.org")
    progress_reaches(api, "refund-test", raised=7000, donors=2)
    headers = {"Authorization": f"Bearer {token('finance')}"}
    refund = api.post(f"/staff/donations/{first}/refunds", {"amount": 1200, "reason": "other"}, headers)
    assert refund.status_code == 201, refund.text
    progress_reaches(api, "refund-test", raised=5800, donors=2)
    refund = api.post(f"/staff/donations/{second}/refunds", {"reason": "requested_by_customer"}, headers)
    assert refund.status_code == 201, refund.text
    progress_reaches(api, "refund-test", raised=3800, donors=1)


def test_a_campaign_with_no_gifts_yet_shows_its_goal(api: Api) -> None:
    body = api.get("/campaigns/quiet-test").json()
    assert body == {
        "id": "quiet-test",
        "title": "Quiet test",
        "goal": 25000,
        "currency": "usd",
        "raised": 0,
        "donors": 0,
    }


def test_an_unknown_campaign_is_404_and_a_hostile_id_is_refused_naming_it(api: Api) -> None:
    unknown = api.get("/campaigns/not-configured")
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"]["code"] == "not_found"
    assert [f["field"] for f in unknown.json()["error"]["fields"]] == ["campaign_id"]
    hostile = [
        "a" * 300,
        "Progress-Test",
        "progress-test%00",
        "progress-test%0A",
        "%3Cscript%3E",
        "..%2F..%2Fetc%2Fpasswd",
        "progress-test%E2%80%A8",
        "%F0%9F%8E%89",
        "%27%20OR%201%3D1",
        "-progress-test",
    ]
    for campaign_id in hostile:
        answer = api.get(f"/campaigns/{campaign_id}")
        assert 400 <= answer.status_code < 500, (campaign_id, answer.status_code, answer.text)
        fields = [f["field"] for f in answer.json()["error"]["fields"]]
        assert fields in (["campaign_id"], ["path"]), (campaign_id, fields)  # "path": no route matches at all
    assert api.get("/campaigns/progress-test%00").json()["error"]["fields"] == [
        {"field": "campaign_id", "message": "not a campaign id"}
    ]


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_progress_in_dynamodb_equals_the_gift_records(stack: Stack, data: Any) -> None:
    year = next(YEARS)
    gifts, images = data.draw(campaign_stream(year))
    totals = store()
    for image in images:
        apply_gift(image, totals)
    found = {
        (name, currency): tuple(totals.progress(name, currency))
        for name in campaign_names(year)
        for currency in CURRENCIES
    }
    assert found == expected_progress(gifts, year)


def test_two_gifts_of_one_donor_applied_at_once_count_the_donor_once(stack: Stack) -> None:
    """Gift B of the same donor commits between gift A's read of the donor marker and A's
    transaction: A's marker condition fails in DynamoDB Local, and A is read again."""
    from chalicelib.adapters.dynamo_totals import DynamoTotals
    from tests.unit.factories import donation

    paid = {"status": "succeeded", "succeeded_at": "2026-06-01T10:00:00.000Z", "email": "race@example.org"}
    first = donation(**paid, campaign="race-2026", amount=1000, version=1)
    second = donation(**paid, campaign="race-2026", amount=2000, version=1)
    plain = store()

    class Racing(DynamoTotals):
        reads = 0

        def donor_gifts(self, campaign: str, currency: str, donor: str) -> int:
            seen = super().donor_gifts(campaign, currency, donor)
            Racing.reads += 1
            if Racing.reads == 1:
                assert apply_gift(second, plain) is True  # commits after this read
            return seen

    racing = Racing(stack.config.table_name, plain.client)  # type: ignore[attr-defined]
    assert apply_gift(first, racing) is True
    assert Racing.reads == 2  # the first transaction was refused, and the marker read again
    assert tuple(plain.progress("race-2026", "usd")) == (3000, 2, 1)


def test_the_route_reads_one_item(stack: Stack) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.bootstrap import get_totals_store

    calls: list[str] = []
    events = get_totals_store().client.meta.events  # type: ignore[attr-defined]
    events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name), "campaign-calls")
    try:
        with Client(app) as client:
            answer = client.http.get("/campaigns/quiet-test")
    finally:
        events.unregister("before-call.dynamodb", unique_id="campaign-calls")
    assert answer.status_code == 200 and calls == ["GetItem"]
