"""Staff routes over HTTP: response headers on every answer, and list cursors bound to their query."""

from __future__ import annotations

import requests

from devstack.stack import Stack
from tests.helpers import Api

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
