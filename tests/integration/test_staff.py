"""Staff routes over HTTP: response headers on every answer, and list cursors bound to their query."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
import requests

from chalicelib.services.ports import Repository
from devstack.stack import Stack
from tests.helpers import Api
from tests.integration.test_errors import assert_error_shape
from tests.unit.factories import donation

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
SOME_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_every_staff_answer_is_not_stored_or_sniffed(api: Api, stack: Stack, token) -> None:
    finance, program = token("finance"), token("program:peace-programs")
    answers = {
        "list": api.get("/staff/donations", finance, **{"from": "2026-11-01", "to": "2026-11-02"}),
        "one missing": api.get(f"/staff/donations/{SOME_ID}", finance),
        "no token": api.get("/staff/donations", **{"from": "2026-11-01", "to": "2026-11-02"}),
        "wrong role": api.get("/staff/donations", program, **{"from": "2026-11-01", "to": "2026-11-02"}),
        "bad query": api.get("/staff/donations", finance, **{"from": "2026-13-01"}),
        "contacts": api.get("/staff/contacts", program),
        "export": api.get("/staff/signups/export.csv", token("communications")),
        "patch missing": requests.patch(
            f"{stack.config.api_url}/staff/contacts/{SOME_ID}",
            json={"status": "answered"},
            headers={"Authorization": f"Bearer {program}"},
            timeout=10,
        ),
        "not json": requests.patch(
            f"{stack.config.api_url}/staff/contacts/{SOME_ID}",
            data="status=answered",
            headers={"Authorization": f"Bearer {program}", "Content-Type": "text/plain"},
            timeout=10,
        ),
        "wrong method": requests.delete(f"{stack.config.api_url}/staff/donations", timeout=10),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "list": 200,
        "one missing": 404,
        "no token": 401,
        "wrong role": 403,
        "bad query": 422,
        "contacts": 200,
        "export": 200,
        "patch missing": 404,
        "not json": 415,
        "wrong method": 405,
    }
    for name, answer in answers.items():
        for header, value in NO_STORE.items():
            assert answer.headers.get(header) == value, (name, header, dict(answer.headers))


def test_the_document_lists_the_staff_headers(api: Api) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    staff = [op for path, ops in paths.items() if path.startswith("/staff/") for op in ops.values()]
    assert staff
    for op in staff:
        for answer in op["responses"].values():
            assert {k: v["schema"]["const"] for k, v in answer["headers"].items()} == NO_STORE


DAY = "2024-03-15"  # a day of its own: only these tests put gifts in it


def _decoded(cursor: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(cursor)))


def _encoded(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


# The seeded gifts are pending and years old, so the stack's abandon sweep (every minute) may
# mark them abandoned at any moment: every query here includes abandoned gifts.
ALL = {"include_abandoned": "true"}


@pytest.fixture(scope="module")
def seeded(repo: Repository) -> None:
    for second in range(3):
        at = f"{DAY}T10:00:0{second}.000Z"
        repo.create_donation(donation(created_at=at, updated_at=at), None)


def _refused(answer: requests.Response) -> None:
    error = assert_error_shape(answer, 422)
    assert [f["field"] for f in error["fields"]] == ["cursor"], error


def test_a_donations_cursor_pages_only_the_query_that_made_it(api: Api, token, seeded: None) -> None:
    finance = token()
    query = {"from": DAY, "to": DAY, "limit": 1, **ALL}
    cursor = api.get("/staff/donations", finance, **query).json()["cursor"]
    assert cursor and _decoded(cursor)["k"]
    assert api.get("/staff/donations", finance, **query, cursor=cursor).status_code == 200
    assert api.get("/staff/donations", finance, **{**query, "limit": 5}, cursor=cursor).status_code == 200
    for other in (
        {"from": "2024-03-14", "to": DAY},
        {"from": DAY, "to": "2024-03-16"},
        {"from": "2024-03-01", "to": "2024-03-31"},
        {"from": f"{DAY}T10:00:01Z", "to": DAY},
    ):
        _refused(api.get("/staff/donations", finance, **other, **ALL, limit=1, cursor=cursor))


def test_a_crafted_donations_cursor_is_422_never_500(api: Api, token, seeded: None) -> None:
    finance = token()
    query = {"from": DAY, "to": DAY, "limit": 1, **ALL}
    real = _decoded(api.get("/staff/donations", finance, **query).json()["cursor"])
    crafted = {
        "a month long before from": {**real, "m": "1996-11", "k": None},
        "a month after to": {**real, "m": "2024-04", "k": None},
        "a month that is not one": {**real, "m": "2024-3", "k": None},
        "a sort key before from": {**real, "k": "1990-01-01T00:00:00.000Z#x"},
        "a sort key after to": {**real, "k": "2024-03-16T00:00:00.000Z#x"},
        "a sort key with no gift id": {**real, "k": f"{DAY}T10:00:00.000Z#"},
        "a DynamoDB key, not a position": {**real, "k": {"gsi1sk": {"S": f"{DAY}T10:00:00.000Z#x"}}},
        "no query digest": {k: v for k, v in real.items() if k != "q"},
        "another query's digest": {**real, "q": "0" * 32},
    }
    answers = {
        name: api.get("/staff/donations", finance, **query, cursor=_encoded(data))
        for name, data in crafted.items()
    }
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(crafted, 422)
    for answer in answers.values():
        _refused(answer)


def test_a_contacts_cursor_is_bound_to_its_program_and_status(api: Api, token, form_token: str) -> None:
    for n in range(2):
        email = f"cursor-{uuid.uuid4().hex[:8]}@example.org"
        body = {"name": "Ann", "email": email, "topic": "media", "subject": f"Hi {n}", "message": "Hello"}
        assert api.post("/contact", {**body, "form_token": form_token}).status_code == 202
    media = token("program:media")
    cursor = api.get("/staff/contacts", media, limit=1).json()["cursor"]
    assert cursor
    assert api.get("/staff/contacts", media, limit=1, cursor=cursor).status_code == 200
    _refused(api.get("/staff/contacts", media, status="answered", cursor=cursor))
    _refused(api.get("/staff/contacts", token("admin"), program="other", cursor=cursor))
    real = _decoded(cursor)
    for data in (
        {**real, "k": {**real["k"], "pk": {"S": "DONATION#x"}}},
        {**real, "k": {**real["k"], "sk": {"S": "AUDIT#x"}}},
        {k: v for k, v in real.items() if k != "q"},
    ):
        _refused(api.get("/staff/contacts", media, limit=1, cursor=_encoded(data)))


def test_a_cursor_nested_past_the_parser_depth_is_422_on_every_list(api: Api, token) -> None:
    deep = base64.urlsafe_b64encode(b"[" * 1200).decode()  # under the 2000-character bound
    admin = token("admin")
    answers = {
        "donations": api.get("/staff/donations", admin, **{"from": DAY, "to": DAY}, cursor=deep),
        "contacts": api.get("/staff/contacts", admin, program="other", cursor=deep),
        "failed outbox": api.get("/staff/outbox", admin, cursor=deep),
        "pending outbox": api.get("/staff/outbox", admin, status="pending", cursor=deep),
    }
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 422)
    for answer in answers.values():
        _refused(answer)


def test_a_name_given_twice_is_422_naming_it_never_one_of_the_values(
    api: Api, stack: Stack, token, form_token: str
) -> None:
    """Parsers disagree on which of two values wins (pydantic keeps the last, many the first),
    so a body key or query parameter given twice is refused, whatever the values."""
    email = f"twice-{uuid.uuid4().hex[:8]}@example.org"
    body = {"name": "Ann", "email": email, "topic": "media", "subject": "Twice", "message": "Hello"}
    assert api.post("/contact", {**body, "form_token": form_token}).status_code == 202
    media = token("program:media")
    mine = [m for m in api.get("/staff/contacts", media, limit=200).json()["items"] if m["email"] == email]
    assert len(mine) == 1
    contact_id = mine[0]["id"]
    patched = requests.patch(
        f"{stack.config.api_url}/staff/contacts/{contact_id}",
        data=b'{"status": "new", "status": "archived"}',
        headers={"Authorization": f"Bearer {media}", "Content-Type": "application/json"},
        timeout=10,
    )
    error = assert_error_shape(patched, 422)
    assert [f["field"] for f in error["fields"]] == ["status"], error
    still = [m for m in api.get("/staff/contacts", media, limit=200).json()["items"] if m["id"] == contact_id]
    assert still and still[0]["status"] == "new"

    raw = json.dumps({**body, "form_token": form_token}).encode()[:-1] + b', "topic": "other"}'
    error = assert_error_shape(api.post("/contact", raw=raw), 422)
    assert [f["field"] for f in error["fields"]] == ["topic"], error

    repeated = requests.get(
        f"{stack.config.api_url}/staff/donations?from={DAY}&from=2024-01-01&to={DAY}",
        headers={"Authorization": f"Bearer {token()}"},
        timeout=10,
    )
    error = assert_error_shape(repeated, 422)
    assert [f["field"] for f in error["fields"]] == ["from"], error


def test_an_unknown_staff_path_is_404_and_not_stored_or_sniffed(stack: Stack, token) -> None:
    admin = {"Authorization": f"Bearer {token('admin')}"}
    for path in ("/staff/nope", "/staff/donations/a/b", "/staff"):
        answer = requests.get(f"{stack.config.api_url}{path}", headers=admin, timeout=10)
        error = assert_error_shape(answer, 404)
        assert [f["field"] for f in error["fields"]] == ["path"], error
        for header, value in NO_STORE.items():
            assert answer.headers.get(header) == value, (path, header, dict(answer.headers))


def test_a_form_route_sent_json_without_a_body_is_415_naming_content_type(stack: Stack) -> None:
    for path in ("/unsubscribe", "/signups/confirm"):
        answer = requests.post(
            f"{stack.config.api_url}{path}", headers={"Content-Type": "application/json"}, timeout=10
        )
        error = assert_error_shape(answer, 415)
        assert [f["field"] for f in error["fields"]] == ["Content-Type"], error


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "BREW", "OPTIONS"])
def test_a_method_the_server_does_not_know_is_405_in_the_error_shape(stack: Stack, method: str) -> None:
    # /donations enables CORS, so a preflight there is the gateway's 200; any other method is 405
    paths = (
        ("/staff/donations", "/health")
        if method == "OPTIONS"
        else ("/staff/donations", "/donations", "/health")
    )
    for path in paths:
        answer = requests.request(method, f"{stack.config.api_url}{path}", timeout=10)
        assert_error_shape(answer, 405)
        if path.startswith("/staff/"):
            for header, value in NO_STORE.items():
                assert answer.headers.get(header) == value, (header, dict(answer.headers))


@pytest.mark.parametrize("role", ["program:", "program:no-such-topic", "program:*"])
def test_a_program_role_naming_no_configured_topic_is_403(api: Api, stack: Stack, token, role: str) -> None:
    staff = token(role)
    for answer in (
        api.get("/staff/contacts", staff),
        api.get("/staff/contacts", staff, program="media"),
        requests.patch(
            f"{stack.config.api_url}/staff/contacts/{SOME_ID}",
            json={"status": "answered"},
            headers={"Authorization": f"Bearer {staff}"},
            timeout=10,
        ),
    ):
        assert_error_shape(answer, 403)


def test_a_huge_token_is_refused_in_the_error_shape(stack: Stack, token) -> None:
    huge = token(claims={"sub": "x" * 70_000})  # past the server's 64 KiB header line
    answer = requests.get(
        f"{stack.config.api_url}/staff/donations", headers={"Authorization": f"Bearer {huge}"}, timeout=10
    )
    assert_error_shape(answer, 431)
    for header, value in NO_STORE.items():
        assert answer.headers.get(header) == value, (header, dict(answer.headers))


ABANDONED_DAY = "2023-07-04"  # a day of its own: card testing left it full of abandoned gifts


def test_a_page_of_gifts_costs_a_bounded_number_of_queries_past_abandoned_gifts(repo: Repository) -> None:
    """Abandoned gifts are filtered out after DynamoDB reads them, so a month full of them
    (card testing leaves thousands) must not turn one page into a query per few gifts."""
    from chalicelib.adapters.dynamo import QUERIES_PER_PAGE

    kept = []
    for n in range(150):
        at = f"{ABANDONED_DAY}T08:{n // 60:02d}:{n % 60:02d}.000Z"
        status = "succeeded" if n in (0, 149) else "abandoned"
        gift = donation(created_at=at, updated_at=at, status=status)
        repo.create_donation(gift, None)
        if status == "succeeded":
            kept.append(gift.id)
    queries = []
    client = repo.client  # type: ignore[attr-defined]
    count = lambda **_: queries.append(1)  # noqa: E731
    client.meta.events.register("before-call.dynamodb.Query", count)
    try:
        start, end = f"{ABANDONED_DAY}T00:00:00.000Z", f"{ABANDONED_DAY}T23:59:59.999Z~"
        found, cursor, pages = [], None, 0
        while True:
            before = len(queries)
            page = repo.list_donations(start, end, 2, cursor)
            assert len(queries) - before <= QUERIES_PER_PAGE
            found += [d.id for d in page.items]
            cursor, pages = page.cursor, pages + 1
            if not cursor or pages > 100:
                break
    finally:
        client.meta.events.unregister("before-call.dynamodb.Query", count)
    assert found == kept  # every kept gift, in order, whatever pages it took
