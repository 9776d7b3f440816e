"""Every staff request is logged before it is answered (who, what, which filter, when), and
only admins read the log. Every staff route, read from the API document, refuses a missing,
expired, wrong-audience and wrong-role token."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.api.openapi import document
from devstack.stack import Stack
from tests.helpers import Api, give

ANY_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_a_finance_read_is_logged_with_its_filter_and_only_admins_read_the_log(
    api: Api, stack: Stack, token: Any
) -> None:
    donation_id, _ = give(api, stack)
    subject = f"finance-{time.time_ns()}"
    reader = token("finance", subject=subject)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert api.get("/staff/donations", reader, **{"from": today, "to": today, "limit": 5}).status_code == 200
    assert api.get(f"/staff/donations/{donation_id}", reader).status_code == 200
    assert api.get("/staff/audit", reader, **{"from": today, "to": today}).status_code == 403
    answer = api.get("/staff/audit", token("admin"), **{"from": today, "to": today, "actor": subject})
    assert answer.status_code == 200, answer.text
    entries = answer.json()["items"]
    assert [e["route"] for e in entries] == ["/staff/donations/{donation_id}", "/staff/donations"]
    one, listed = entries
    assert one["actor"] == subject and one["roles"] == ["finance"] and one["method"] == "GET"
    assert one["params"] == {"donation_id": donation_id} and one["at"].startswith(today)
    assert listed["query"] == {"from": today, "to": today, "limit": "5"}
    # the log reads as any list does: newest first, paged, its cursor bound to its query
    first = api.get("/staff/audit", token("admin"), **{"from": today, "to": today, "limit": 1}).json()
    assert len(first["items"]) == 1 and first["cursor"]
    other = api.get(
        "/staff/audit",
        token("admin"),
        **{"from": today, "to": today, "actor": "x", "cursor": first["cursor"]},
    )
    assert other.status_code == 422 and other.json()["error"]["fields"][0]["field"] == "cursor"


def test_a_refused_request_reads_nothing_and_is_not_logged_as_a_read(api: Api, token: Any) -> None:
    today = time.strftime("%Y-%m-%d", time.gmtime())
    subject = f"program-{time.time_ns()}"
    assert (
        api.get(f"/staff/donations/{ANY_ID}", token("program:peace-programs", subject=subject)).status_code
        == 403
    )
    logged = api.get("/staff/audit", token("admin"), **{"from": today, "to": today, "actor": subject}).json()
    assert logged["items"] == []


def _staff_operations() -> list[tuple[str, str, list[str]]]:
    found = []
    for path, methods in document()["paths"].items():
        for method, operation in methods.items():
            if operation.get("security"):
                found.append((method, path, operation["x-roles"]))
    return found


STAFF = _staff_operations()


@pytest.mark.parametrize(("method", "path", "roles"), STAFF, ids=[f"{m} {p}" for m, p, _ in STAFF])
def test_every_staff_route_refuses_a_bad_or_wrong_token(
    api: Api, token: Any, method: str, path: str, roles: list[str]
) -> None:
    url = api.base + path.replace("{donation_id}", ANY_ID).replace("{recurring_id}", ANY_ID)
    url = url.replace("{contact_id}", ANY_ID).replace("{email}", "someone@example.org")
    url = url.replace("{export_id}", ANY_ID)
    assert "{" not in url, url
    role = roles[0].replace("<topic>", "peace-programs")
    cases = {
        "missing": (None, 401),
        "expired": (token(role, lifetime=-60), 401),
        "another audience": (token(role, audience="some-other-client"), 401),
        "another role": (token("no-such-role"), 403),
    }
    for case, (bearer, status) in cases.items():
        headers = {"Content-Type": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        answer = api.session.request(method.upper(), url, data=b"{}", headers=headers, timeout=30)
        assert answer.status_code == status, (case, answer.status_code, answer.text)
        assert answer.json()["error"]["code"] in ("unauthorized", "forbidden"), case
