"""The gift list and an export read one model of the gift filters: a value the list refuses,
an export refuses with the same message (under `filters.`), and a value the list takes, an
export takes, for every filter field."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.finding import GiftFilter
from tests.helpers import Api

RANGE = {"from": "2021-03-01", "to": "2021-03-31"}
# Query strings are text, so the export gets the same text (JSON numbers are checked below).
REFUSED: list[tuple[str, str]] = [
    ("status", "lost"),
    ("status", "PAID"),
    ("fund", "not-a-fund"),
    ("fund", ""),
    ("fund", "f" * 101),
    ("campaign", ""),
    ("campaign", "c" * 201),
    ("campaign", "two\u2028lines"),
    ("campaign", "spring\u0000"),
    ("frequency", "weekly"),
    ("email", "not an email"),
    ("email", "ab"),
    ("email", "a\u0000b@x.org"),
    ("email", "\ufffd@x.org"),
    ("email", "d" * 250 + "@x.org"),
    ("min_amount", "-1"),
    ("min_amount", "ten"),
    ("min_amount", "1.5"),
    ("min_amount", str(10**12)),
    ("max_amount", "-1"),
    ("max_amount", str(10**12)),
]
TAKEN: list[tuple[str, Any]] = [
    ("status", "paid"),
    ("fund", "peace-programs"),
    ("campaign", "c" * 200),
    ("frequency", "installment"),
    ("email", "Donor@Example"),
    ("min_amount", 10**12 - 1),
    ("max_amount", 0),
]


def _fields(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 422, (answer.status_code, answer.text)
    return [(f["field"], f["message"]) for f in answer.json()["error"]["fields"]]


def _export(api: Api, finance: str, filters: dict[str, Any]) -> Any:
    body = {"kind": "donations", **RANGE, "filters": filters}
    return api.post("/staff/exports", body, headers={"Authorization": f"Bearer {finance}"})


def test_every_filter_field_is_checked_here() -> None:
    named = set(GiftFilter.model_fields)
    assert {field for field, _ in REFUSED} == named
    assert {field for field, _ in TAKEN} == named


@pytest.mark.parametrize(("field", "value"), REFUSED, ids=[f"{f}={v[:12]!r}" for f, v in REFUSED])
def test_an_export_refuses_a_filter_the_list_refuses_the_same_way(
    api: Api, token, field: str, value: str
) -> None:
    finance = token()
    listed = _fields(api.get("/staff/donations", finance, **RANGE, **{field: value}))
    assert [name for name, _ in listed] == [field]
    exported = _fields(_export(api, finance, {field: value}))
    assert exported == [("filters." + name, message) for name, message in listed]


@pytest.mark.parametrize(("field", "value"), TAKEN, ids=[field for field, _ in TAKEN])
def test_an_export_takes_a_filter_the_list_takes(api: Api, token, field: str, value: Any) -> None:
    finance = token()
    listed = api.get("/staff/donations", finance, **RANGE, **{field: value})
    assert listed.status_code == 200, listed.text
    answer = _export(api, finance, {field: value})
    assert answer.status_code == 202, answer.text


def test_an_amount_range_upside_down_is_refused_alike(api: Api, token) -> None:
    finance = token()
    listed = _fields(api.get("/staff/donations", finance, **RANGE, min_amount=10, max_amount=5))
    exported = _fields(_export(api, finance, {"min_amount": 10, "max_amount": 5}))
    assert exported == [("filters." + name, message) for name, message in listed]
