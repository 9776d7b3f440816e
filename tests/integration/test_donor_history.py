"""GET /staff/donors/{email}: a donor's gifts, newest first, with lifetime and year-to-date
totals per currency (gross, refunded, net of refunds)."""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.services.clock import utc_now
from chalicelib.services.ports import Repository
from tests.helpers import Api
from tests.unit.factories import donation


def _gift(repo: Repository, email: str, at: str, **overrides: Any) -> str:
    values: dict[str, Any] = {"created_at": at, "updated_at": at, "email": email, "status": "succeeded"}
    if overrides.get("status", "succeeded") == "succeeded":
        values["succeeded_at"] = at
    gift = donation(**{**values, **overrides})
    repo.create_donation(gift, None)
    return gift.id


def test_a_donors_history_pages_newest_first_with_totals(api: Api, token, repo: Repository) -> None:
    tag = uuid.uuid4().hex[:8]
    email = f"Giver.{tag}@Example.ORG"
    year = utc_now()[:4]
    last = str(int(year) - 1)
    ids = [
        _gift(repo, email, f"{last}-03-01T10:00:00.000Z", amount=10000),
        _gift(repo, email.lower(), f"{last}-12-31T23:00:00.000Z", amount=2000, refunded=500),
        _gift(repo, email, f"{year}-01-02T08:00:00.000Z", amount=5000, refunded=5000),
        _gift(repo, email.upper(), f"{year}-01-03T08:00:00.000Z", amount=3000, currency="eur"),
        _gift(repo, email, f"{year}-01-04T08:00:00.000Z", amount=9999, status="failed"),
        _gift(repo, email, f"{year}-01-05T08:00:00.000Z", amount=7000, frequency="monthly", recurring_id="r"),
    ]
    _gift(repo, f"other-{tag}@example.org", f"{year}-01-04T08:00:00.000Z", amount=1)
    finance = token()
    pages, cursor, found = 0, None, []
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = api.get(f"/staff/donors/{email.upper()}", finance, **params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += [item["id"] for item in body["items"]]
        cursor, pages = body["cursor"], pages + 1
        if not cursor:
            break
    assert found == ids[::-1]
    assert pages >= 3
    assert body["email"] == email.lower()
    totals = {t["currency"]: t for t in body["totals"]}
    assert totals == {
        "eur": {
            "currency": "eur",
            "lifetime": {"gross": 3000, "refunded": 0, "net": 3000, "count": 1},
            "year_to_date": {"gross": 3000, "refunded": 0, "net": 3000, "count": 1},
        },
        "usd": {
            "currency": "usd",
            "lifetime": {"gross": 24000, "refunded": 5500, "net": 18500, "count": 4},
            "year_to_date": {"gross": 12000, "refunded": 5000, "net": 7000, "count": 2},
        },
    }


def test_a_donors_cursor_is_theirs_alone(api: Api, token, repo: Repository) -> None:
    tag = uuid.uuid4().hex[:8]
    one, two = f"one-{tag}@example.org", f"two-{tag}@example.org"
    for email in (one, one, two, two):
        _gift(repo, email, "2022-05-05T05:05:05.000Z")
    finance = token()
    cursor = api.get(f"/staff/donors/{one}", finance, limit=1).json()["cursor"]
    assert api.get(f"/staff/donors/{one}", finance, limit=1, cursor=cursor).status_code == 200
    answer = api.get(f"/staff/donors/{two}", finance, limit=1, cursor=cursor)
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "cursor"


def test_a_donor_route_needs_finance_and_an_email(api: Api, token) -> None:
    assert api.get("/staff/donors/a@example.org", token("program:media")).status_code == 403
    assert api.get("/staff/donors/a@example.org").status_code == 401
    answer = api.get("/staff/donors/not-an-email", token())
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["error"]["fields"]] == ["email"]
    empty = api.get("/staff/donors/nobody-ever@example.org", token()).json()
    assert (empty["items"], empty["totals"], empty["cursor"]) == ([], [], None)


def test_a_donor_address_with_a_plus_is_found_encoded_or_not(api: Api, token, repo: Repository) -> None:
    email = f"ann+{uuid.uuid4().hex[:8]}@example.org"
    gift = _gift(repo, email, "2022-06-06T06:06:06.000Z")
    for path in (email, email.replace("+", "%2B").replace("@", "%40")):
        answer = api.get(f"/staff/donors/{path}", token())
        assert answer.status_code == 200, answer.text
        assert [item["id"] for item in answer.json()["items"]] == [gift]
