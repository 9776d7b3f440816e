"""Bad input gets a 4xx in one JSON shape that names the field; nothing is written."""

from __future__ import annotations

import json
import string
import time
import uuid
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.stack import Stack
from tests.helpers import GIFT, Api

FIELDS = [*GIFT, "campaign", "anonymous", "honeypot"]
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.text(max_size=300),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _text_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _email(value: Any) -> bool:
    return isinstance(value, str) and "@" in value


# What each field may hold, said independently of the code under test: a property test that
# sees a value accepted checks it against this, so accepting a wrong one fails the test.
GIFT_MAY_HOLD = {
    "amount": lambda v: type(v) is int and 100 <= v <= 10_000_000,
    "currency": lambda v: v == "usd",
    "email": _email,
    "first_name": lambda v: isinstance(v, str) and v.strip() != "",
    "last_name": lambda v: isinstance(v, str) and v.strip() != "",
    "fund": lambda v: v in ("where-needed-most", "peace-programs", "health-programs"),
    "campaign": _text_or_none,
    "anonymous": lambda v: type(v) is bool,
    "honeypot": _text,  # a filled honeypot gets the same 201, and nothing is stored
}
FORM_MAY_HOLD = {
    "/signups": {
        "email": _email,
        "form_token": lambda v: False,  # only the token /config issued, never a generated value
        "honeypot": _text,  # a filled honeypot gets the same 202, and nothing is stored
        "name": _text_or_none,
        "postal_code": _text_or_none,
        "interests": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
        "source_page": _text_or_none,
        "consent_version": _text_or_none,
    },
    "/contact": {
        "email": _email,
        "form_token": lambda v: False,
        "honeypot": _text,
        "name": _text,
        "topic": lambda v: v in ("peace-programs", "health-programs", "donations", "media", "other"),
        "subject": _text,
        "message": _text,
    },
}


def assert_error_shape(answer: Any, status: int | None = None) -> dict[str, Any]:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    if status:
        assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert "Traceback" not in answer.text
    return error


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(field=st.sampled_from(FIELDS), value=WRONG)
def test_invalid_field_values_are_named(api_session: Api, field: str, value: Any) -> None:
    body = {**GIFT, field: value}
    answer = api_session.post("/donations", body)
    if answer.status_code == 201:  # the generated value must really be one the field takes
        assert GIFT_MAY_HOLD[field](value), (field, value)
        return
    error = assert_error_shape(answer, 422)
    assert field in {f["field"] for f in error["fields"]}, error


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    extra=st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=20).filter(lambda k: k not in FIELDS)
)
def test_unknown_fields_are_refused(api_session: Api, extra: str) -> None:
    error = assert_error_shape(api_session.post("/donations", {**GIFT, extra: "x"}), 422)
    assert extra in {f["field"] for f in error["fields"]}


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(missing=st.sampled_from(list(GIFT)))
def test_missing_fields_are_named(api_session: Api, missing: str) -> None:
    body = {k: v for k, v in GIFT.items() if k != missing}
    error = assert_error_shape(api_session.post("/donations", body), 422)
    assert missing in {f["field"] for f in error["fields"]}


def test_limits_currency_and_fund(api: Api) -> None:
    cases = {
        "amount": [99, 10_000_001, "2500", 25.5, True],
        "currency": ["eur", "USD"],
        "fund": ["not-a-fund"],
        "email": ["nope", "a@b", "x" * 250 + "@example.org"],
        "first_name": ["", "Ada\r\nBcc: victim@example.org", "x" * 101],
    }
    for field, values in cases.items():
        for value in values:
            error = assert_error_shape(api.post("/donations", {**GIFT, field: value}), 422)
            assert field in {f["field"] for f in error["fields"]}, (field, value, error)


def test_not_json_gets_415_and_oversized_gets_413(api: Api) -> None:
    form = api.session.post(
        api.base + "/donations",
        data="amount=1",
        timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error_shape(form, 415)
    big = json.dumps({**GIFT, "campaign": "x" * 20_000}).encode()
    assert_error_shape(api.post("/donations", raw=big), 413)
    assert_error_shape(api.post("/donations", raw=b"{not json"), 422)
    assert_error_shape(api.post("/donations", raw=b"[]"), 422)
    assert_error_shape(api.post("/donations", raw=b"\xff\xfe"), 422)


def test_unknown_routes_are_404_and_unknown_methods_405_in_the_error_shape(api: Api, token) -> None:
    for path in ("/nope", "/staff", "/staff/donations/x/y", "/donations/a/b/c", "/webhooks"):
        for headers in ({}, {"Authorization": f"Bearer {token()}"}, {"Authorization": "AWS4 x"}):
            answer = api.session.get(api.base + path, headers=headers, timeout=10)
            error = assert_error_shape(answer, 404)
            assert error["code"] == "not_found" and error["fields"][0]["field"] == "path", (path, error)
    wrong = api.session.delete(api.base + "/donations", timeout=10)
    assert assert_error_shape(wrong, 405)["code"] == "method_not_allowed"
    put = api.session.put(api.base + "/health", json={}, timeout=10)
    assert assert_error_shape(put, 405)["code"] == "method_not_allowed"


def test_bad_idempotency_key_is_named(api: Api) -> None:
    error = assert_error_shape(api.post("/donations", GIFT, {"Idempotency-Key": "x" * 300}), 422)
    assert error["fields"][0]["field"] == "Idempotency-Key"


def test_confirm_takes_an_empty_object_only(api: Api) -> None:
    created = api.post("/donations", GIFT).json()
    error = assert_error_shape(api.post(f"/donations/{created['donation_id']}/confirm", {"amount": 1}), 422)
    assert error["fields"][0]["field"] == "amount"


def test_staff_routes_need_a_valid_token_with_the_role(api: Api, stack: Stack, token) -> None:
    assert_error_shape(api.get("/staff/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV"), 401)
    assert_error_shape(api.get("/staff/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV", "not.a.jwt"), 401)
    assert_error_shape(api.get("/staff/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV", token(lifetime=-120)), 401)
    assert_error_shape(api.get("/staff/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV", token(issuer="evil")), 401)
    assert_error_shape(api.get("/staff/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV", token(audience="x")), 401)
    assert_error_shape(api.get("/staff/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV", token("program")), 403)
    assert api.get("/staff/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV", token("finance")).status_code == 404


def test_staff_list_validates_its_query(api: Api, token) -> None:
    for params in (
        {},
        {"from": "2026-13-01", "to": "2026-12-01"},
        {"from": "2026-12-01", "to": "2026-11-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"from": "2026-11-01", "to": "2026-11-02", "limit": 0},
        {"from": "2026-11-01", "to": "2026-11-02", "cursor": "%%%"},
        {"from": "2026-11-01", "to": "2026-11-02", "cursor": "eyJtIjogIjIwMjYtMTEiLCAiayI6IHsicGsiOiAxfX0="},
        {"from": "2026-11-01", "to": "2026-11-02", "x": "1"},
        {"from": "0552-06-09", "to": "0552-06-09"},
        {"from": "9999-12-31", "to": "9999-12-31"},
    ):
        assert_error_shape(api.get("/staff/donations", token(), **params), 422)


def test_staff_list_pages_with_a_cursor(api: Api, token) -> None:
    for _ in range(3):
        assert api.post("/donations", GIFT).status_code == 201
    day = time.strftime("%Y-%m-%d", time.gmtime())
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        params = {"from": day, "to": day, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/staff/donations", token(), **params).json()
        seen.extend((item["created_at"], item["id"]) for item in page["items"])
        cursor = page["cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 3
    assert seen == sorted(seen)  # in the order they were made (other tests backdate some gifts)


SIGNUP = {
    "email": "fuzz-signup@example.org",
    "name": "Ann",
    "postal_code": "30307",
    "interests": ["peace"],
    "source_page": "https://example.org/",
    "consent_version": "v1",
    "honeypot": "",
}
CONTACT = {
    "name": "Ann",
    "email": "fuzz-contact@example.org",
    "topic": "media",
    "subject": "Hi",
    "message": "Hello",
    "honeypot": "",
}


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(["/signups", "/contact"]), data=st.data())
def test_form_fields_with_wrong_values_are_named(api_session: Api, form_token: str, route: str, data) -> None:
    base = SIGNUP if route == "/signups" else CONTACT
    field = data.draw(st.sampled_from(sorted({*base, "form_token"})))
    value = data.draw(WRONG)
    # A new address each time, so the per-address limit never answers in place of validation.
    fresh = {"email": f"fuzz-{uuid.uuid4().hex[:12]}@example.org"}
    answer = api_session.post(route, {**base, **fresh, "form_token": form_token, field: value})
    if answer.status_code == 202:  # the generated value must really be one the field takes
        assert FORM_MAY_HOLD[route][field](value), (route, field, value)
        return
    error = assert_error_shape(answer, 422)  # a 429 here is a failure: it checked nothing
    assert field in {f["field"].split(".")[0] for f in error["fields"]}, error


def test_a_post_without_a_body_reads_as_an_empty_object(api: Api, stack: Stack) -> None:
    created = api.post("/donations", GIFT).json()
    bare = requests.post(f"{stack.config.api_url}/donations/{created['donation_id']}/confirm", timeout=10)
    assert bare.status_code == 409  # the card is not saved yet: a state answer, not 415
    missing = assert_error_shape(requests.post(f"{stack.config.api_url}/donations", timeout=10), 422)
    assert {"amount", "email"} <= {f["field"] for f in missing["fields"]}


def test_a_base64_body_that_does_not_decode_gets_a_400_naming_the_body(stack: Stack) -> None:
    """API Gateway encodes binary bodies itself, but a Lambda event is input too: never a 500."""
    import sys

    sys.path.insert(0, "bench")
    from api_events import LambdaContext, api_event

    from app import app

    for broken in ("not base64!", "YQ", "e30"):  # e30 is "{}" unpadded
        event = {**api_event("POST", "/contact", "{}"), "body": broken, "isBase64Encoded": True}
        answer = app(event, LambdaContext())
        assert answer["statusCode"] == 400, (broken, answer)
        error = json.loads(answer["body"])["error"]
        assert error["fields"] == [{"field": "body", "message": "must be valid base64"}]
