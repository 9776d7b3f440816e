"""Finance routes as a careless clerk and an attacker use them: hostile filters, cursors
carried to other queries, formula text in the CSVs, and what the staff log keeps."""

from __future__ import annotations

import csv
import io
import time
import uuid
from typing import Any

import requests

from chalicelib.services.ports import Repository
from tests.helpers import Api
from tests.unit.factories import donation

RANGE = {"from": "2021-03-01", "to": "2021-03-31"}


def _raw(api: Api, token: str, path_and_query: str) -> requests.Response:
    return api.session.get(
        api.base + path_and_query, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _fields(answer: requests.Response) -> list[str]:
    assert answer.status_code == 422, (answer.status_code, answer.text)
    return [f["field"] for f in answer.json()["error"]["fields"]]


def test_hostile_filter_values_answer_422_naming_the_field(api: Api, token) -> None:
    finance = token()
    cases: list[tuple[str, str]] = [
        ("campaign=" + "x" * 5000, "campaign"),
        ("campaign=%00", "campaign"),
        ("campaign=a%0Db", "campaign"),
        ("campaign=%E2%80%AE", "campaign"),  # right-to-left override: not printable
        ("campaign=%ff%fe", "campaign"),
        ("fund=%ff", "fund"),
        ("email=%ff%40x", "email"),
        ("email=a%00b%40x.org", "email"),
        ("min_amount=1e3", "min_amount"),
        ("min_amount=-1", "min_amount"),
        ("min_amount=" + "9" * 5000, "min_amount"),
        ("max_amount=1.5", "max_amount"),
        ("min_amount=10&max_amount=5", "max_amount"),
        ("status=paid&status=refunded", "status"),
        ("status[]=paid", "status[]"),
        ("filters[status]=paid", "filters[status]"),
        ("frequency=ONE_TIME", "frequency"),
        ("limit=0", "limit"),
        ("cursor=" + "A" * 5000, "cursor"),
        ("cursor=%ff", "cursor"),
    ]
    wrong = []
    for query, field in cases:
        answer = _raw(api, finance, f"/staff/donations?from=2021-03-01&to=2021-03-31&{query}")
        named = [f["field"] for f in answer.json()["error"]["fields"]] if answer.status_code == 422 else []
        if field not in named:
            wrong.append((query[:40], answer.status_code, answer.text[:200]))
    assert not wrong, "\n".join(map(str, wrong))


def test_hostile_donor_and_report_values_answer_4xx_not_500(api: Api, token) -> None:
    finance = token()
    wrong = []
    for path in (
        "/staff/donors/a%00b%40x.org",
        "/staff/donors/" + "a" * 300 + "%40x.org",
        "/staff/donors/%ff%40x.org",
        "/staff/donors/a%40x.org?limit=abc",
        "/staff/donors/a%40x.org?cursor=%ff",
        "/staff/reports/totals?from=2021-03-01&to=2021-03-31&group_by=fund&group_by=day",
        "/staff/reports/totals?from=2021-03-01&to=2021-03-31&group_by=%00",
        "/staff/reports/totals?from=0001-01-01&to=9999-12-31",
        "/staff/reports/payouts?from=2021-03-01&to=2021-03-31&format=xlsx",
        "/staff/reports/payouts?from=2021-03-31&to=2021-03-01",
        "/staff/donations?from=2021-03-31&to=2021-03-01",
        "/staff/donations?from=0001-01-01&to=9999-12-31",
        "/staff/donations?from=2021-03-01&to=2021-03-31&include_abandoned=maybe",
        "/staff/audit?from=2021-03-01&to=2021-03-31&actor=" + "a" * 5000,
        "/staff/audit?from=2021-03-01&to=2021-03-31&actor=%00",
        "/staff/audit?from=2021-03-01&to=2021-03-31&cursor=%ff",
        "/staff/exports/" + "A" * 26,
        "/staff/exports/..%2F..%2Fetc%2Fpasswd",
    ):
        answer = _raw(api, finance, path)
        if not 400 <= answer.status_code < 500 or "error" not in answer.json():
            wrong.append((path[:60], answer.status_code, answer.text[:200]))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_cursor_works_only_on_the_query_that_made_it(api: Api, repo: Repository, token) -> None:
    finance = token("admin")
    tag = uuid.uuid4().hex[:8]
    email = f"cursor-{tag}@example.org"
    for day in range(1, 6):
        at = f"2021-03-{day:02d}T10:00:00.000Z"
        gift = donation(created_at=at, updated_at=at, succeeded_at=at, status="succeeded", email=email)
        repo.create_donation(gift, None)
    first = api.get("/staff/donations", finance, limit=2, email=email, **RANGE).json()
    cursor = first["cursor"]
    assert cursor
    others: list[tuple[str, dict[str, Any]]] = [
        ("/staff/donations", {"limit": 2, "email": email, "from": "2021-03-02", "to": "2021-03-31"}),
        ("/staff/donations", {"limit": 2, "email": email, "min_amount": 1, **RANGE}),
        ("/staff/donations", {"limit": 2, **RANGE}),
        ("/staff/donations", {"limit": 2, "email": email, "include_abandoned": "true", **RANGE}),
        (f"/staff/donors/{email}", {"limit": 2}),
        ("/staff/audit", {"limit": 2, **RANGE}),
    ]
    for path, query in others:
        answer = api.get(path, finance, cursor=cursor, **query)
        assert "cursor" in _fields(answer), (path, query)
    donor_cursor = api.get(f"/staff/donors/{email}", finance, limit=2).json()["cursor"]
    assert donor_cursor
    answer = api.get(f"/staff/donors/other-{tag}@example.org", finance, limit=2, cursor=donor_cursor)
    assert "cursor" in _fields(answer)
    answer = api.get("/staff/donations", finance, limit=2, email=email, cursor=donor_cursor, **RANGE)
    assert "cursor" in _fields(answer)


def _export(api: Api, finance: str, filters: dict[str, Any], day: str) -> dict[str, Any]:
    body = {"kind": "donations", "from": day, "to": day, "filters": filters}
    answer = api.post("/staff/exports", body, headers={"Authorization": f"Bearer {finance}"})
    assert answer.status_code == 202, answer.text
    export_id = answer.json()["export_id"]
    state: dict[str, Any] = {}
    for _ in range(120):
        state = api.get(f"/staff/exports/{export_id}", finance).json()
        if state["status"] != "running":
            break
        time.sleep(0.5)
    assert state["status"] == "done", state
    return state


def test_an_export_link_is_short_lived_and_opens_its_own_file_only(api: Api, token) -> None:
    finance = token()
    one = _export(api, finance, {"campaign": "link-one"}, "2021-05-01")
    two = _export(api, finance, {"campaign": "link-two"}, "2021-05-01")
    assert "X-Amz-Expires=300" in one["url"]
    assert requests.get(one["url"], timeout=30).status_code == 200
    # The local S3 server does not check signatures; S3 signs the path, so a link opens the
    # one object it names, and the bucket blocks public access (infra/resources.json).
    path = one["url"].split("?")[0]
    assert path.endswith(f"/exports/{one['export_id']}.csv")
    assert "X-Amz-Signature=" in one["url"] and two["export_id"] not in one["url"]


def test_formula_text_in_gift_fields_is_neutralized_in_the_export(api: Api, repo: Repository, token) -> None:
    finance = token()
    tag = uuid.uuid4().hex[:8]
    email = f"formula-{tag}@example.org"
    at = "2021-04-02T10:00:00.000Z"
    hostile = {
        "campaign": "=cmd|' /C calc'!A0",
        "first_name": "+SUM(1+1)",
        "last_name": '@HYPERLINK("http://x")',
        "utm_source": "-2+3",
        "utm_medium": "\uff1d1+1",
        "utm_campaign": "\t=1+1",
        "tribute_name": '=HYPERLINK("http://x","y")',
    }
    gift = donation(created_at=at, updated_at=at, succeeded_at=at, status="succeeded", email=email, **hostile)
    repo.create_donation(gift, None)
    answer = api.post(
        "/staff/exports",
        {"kind": "donations", "from": "2021-04-02", "to": "2021-04-02", "filters": {"email": email}},
        headers={"Authorization": f"Bearer {finance}"},
    )
    assert answer.status_code == 202, answer.text
    export_id = answer.json()["export_id"]
    state: dict[str, Any] = {}
    for _ in range(120):
        state = api.get(f"/staff/exports/{export_id}", finance).json()
        if state["status"] != "running":
            break
        time.sleep(0.5)
    assert state["status"] == "done", state
    text = requests.get(state["url"], timeout=30).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    for column, value in hostile.items():
        written = rows[0][column]
        assert written.startswith("'"), (column, written)
        assert written[1:] == value


def test_the_staff_log_keeps_each_finance_read_and_no_secret(api: Api, token) -> None:
    tag = uuid.uuid4().hex[:8]
    finance = token("finance", subject=f"clerk-{tag}")
    admin = token("admin")
    api.get("/staff/reports/totals", finance, **RANGE)
    api.get(f"/staff/donors/someone-{tag}@example.org", finance)
    api.get("/staff/reports/payouts", finance, format="csv", **RANGE)
    first = api.get("/staff/donations", finance, limit=1, **RANGE).json()
    if first["cursor"]:
        api.get("/staff/donations", finance, limit=1, cursor=first["cursor"], **RANGE)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    log = api.get("/staff/audit", admin, actor=f"clerk-{tag}", limit=50, **{"from": today, "to": today})
    assert log.status_code == 200, log.text
    entries = log.json()["items"]
    routes = {e["route"] for e in entries}
    assert {
        "/staff/reports/totals",
        "/staff/donors/{email}",
        "/staff/reports/payouts",
        "/staff/donations",
    } <= routes
    text = log.text
    assert finance not in text
    assert finance.split(".")[1] not in text


def test_an_export_takes_the_filters_the_list_takes_and_refuses_the_ones_it_refuses(api: Api, token) -> None:
    """A clerk's typo in a fund answers 422 at once, not a done export of no rows; a filter
    the list answers is one an export takes."""
    finance = token()
    good = {"kind": "donations", "from": "2021-03-01", "to": "2021-03-31"}
    refused = {
        "filters.fund": {"fund": "peace-program"},
        "filters.campaign": {"campaign": "spring\u0000"},
        "filters.max_amount": {"min_amount": 10, "max_amount": 5},
    }
    wrong = []
    for field, filters in refused.items():
        answer = api.post(
            "/staff/exports", {**good, "filters": filters}, headers={"Authorization": f"Bearer {finance}"}
        )
        named = [f["field"] for f in answer.json()["error"]["fields"]] if answer.status_code == 422 else []
        if not any(name.startswith(field) for name in named):
            wrong.append((field, answer.status_code, answer.text[:200]))
    campaign = "c" * 150
    listed = api.get("/staff/donations", finance, campaign=campaign, **RANGE)
    assert listed.status_code == 200, listed.text
    answer = api.post(
        "/staff/exports",
        {**good, "filters": {"campaign": campaign}},
        headers={"Authorization": f"Bearer {finance}"},
    )
    if answer.status_code != 202:
        wrong.append(("campaign of 150", answer.status_code, answer.text[:200]))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_token_pasted_into_the_query_is_not_kept_in_the_staff_log(api: Api, token) -> None:
    """A clerk who pastes the bearer token into the URL gets a 422; the log keeps the
    request, not the token."""
    tag = uuid.uuid4().hex[:8]
    finance = token("finance", subject=f"paster-{tag}")
    for name in ("access_token", "token", "campaign"):
        answer = _raw(api, finance, f"/staff/donations?from=2021-03-01&to=2021-03-31&{name}={finance}")
        assert answer.status_code == 422, answer.text
    short = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2hvcnQtc2lnbmF0dXJl"  # a token short enough to fit
    assert _raw(
        api, finance, f"/staff/donations?from=2021-03-01&to=2021-03-31&campaign={short}"
    ).status_code in (
        200,
        422,
    )
    today = time.strftime("%Y-%m-%d", time.gmtime())
    log = api.get("/staff/audit", token("admin"), actor=f"paster-{tag}", **{"from": today, "to": today})
    assert log.status_code == 200, log.text
    assert len(log.json()["items"]) == 4
    signature = finance.split(".")[2]
    assert signature[:40] not in log.text
    assert "c2hvcnQtc2lnbmF0dXJl" not in log.text and "[token removed]" in log.text


def test_one_stream_record_delivered_to_many_workers_at_once_counts_once(stack: Any) -> None:
    """Lambda may run a redelivered batch beside the first: the same gift image applied by
    eight threads at once adds to the totals once."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date

    from chalicelib.bootstrap import get_totals_store
    from chalicelib.services.totals import apply_gift, report

    totals = get_totals_store()
    at = "2199-07-04T10:00:00.000Z"
    gift = donation(
        created_at=at, updated_at=at, succeeded_at=at, status="succeeded", amount=4321, fund="peace-programs"
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: apply_gift(gift, totals), range(8)))
    refunded = gift.model_copy(update={"refunded": 1000, "version": gift.version + 1})
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda g: apply_gift(g, totals), [gift, refunded] * 4))
    rows = [r.as_dict() for r in report("day", date(2199, 7, 4), date(2199, 7, 4), totals)]
    assert len(rows) == 1, rows
    assert (rows[0]["count"], rows[0]["gross"], rows[0]["refunded"]) == (1, 4321, 1000), rows
