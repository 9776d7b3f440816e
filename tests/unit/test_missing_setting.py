"""A missing required setting fails every request with a 500, in the error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib.bootstrap import get_settings


@pytest.fixture
def no_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("STEWARD_TABLE_NAME", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()  # the next test reads its own environment again


def test_a_missing_setting_is_a_500_in_the_error_shape_with_the_staff_headers(no_table: None) -> None:
    from app import app

    with Client(app) as client:
        for path in ("/staff/donations", "/health"):
            answer = client.http.get(path)
            assert answer.status_code == 500
            error = json.loads(answer.body)["error"]
            assert error == {"code": "internal_error", "message": error["message"], "fields": []}
        assert answer.headers.get("Cache-Control") is None  # /health is not a staff answer
        staff = client.http.get("/staff/donations")
        assert staff.headers["Cache-Control"] == "no-store"
        assert staff.headers["X-Content-Type-Options"] == "nosniff"
