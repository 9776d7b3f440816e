"""The local web server in front of the dashboard: its files, the pinned npm files, and the
/api/ pass-through to the API (as CloudFront's /api/* behavior does on AWS)."""

from __future__ import annotations

from typing import Any

import requests

from devstack import npm
from devstack.stack import Stack


def web(stack: Stack, path: str, method: str = "GET", **kwargs: Any) -> requests.Response:
    return requests.request(method, stack.config.web_url + path, timeout=10, **kwargs)


def test_the_dashboard_is_served_with_a_strict_policy(stack: Stack) -> None:
    page = web(stack, "/staff/")
    assert page.status_code == 200 and "Finance" in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_chart_library_is_the_pinned_one_served_locally(stack: Stack) -> None:
    script = web(stack, "/vendor/uPlot.iife.min.js")
    assert script.status_code == 200 and script.headers["Content-Type"] == "application/javascript"
    assert script.content == (npm.ensure_assets() / "uPlot.iife.min.js").read_bytes()
    for hostile in (
        "/vendor/../pyproject.toml",
        "/vendor/%2e%2e/README.md",
        "/vendor/.pins",
        "/vendor/nope.js",
    ):
        assert web(stack, hostile).status_code == 404, hostile


def test_staff_calls_pass_through_with_the_token_and_the_apis_answer(stack: Stack, token: Any) -> None:
    headers = {"Authorization": f"Bearer {token('finance')}"}
    answer = web(stack, "/api/staff/reports/totals?from=2026-01-01&to=2026-01-02", headers=headers)
    assert answer.status_code == 200 and answer.json()["rows"] == []
    sheet = web(stack, "/api/staff/reports/payouts?from=2026-01-01&to=2026-01-02&format=csv", headers=headers)
    assert sheet.status_code == 200 and sheet.headers["Content-Disposition"].startswith("attachment")
    refused = web(stack, "/api/staff/reports/totals?from=2026-01-01&to=2026-01-02")
    assert refused.status_code == 401 and refused.json()["error"]["code"]
    bad = web(stack, "/api/staff/donations/x/refunds", "POST", headers=headers, json={"reason": "nope"})
    assert bad.status_code in (404, 422) and "error" in bad.json()


def test_the_pass_through_refuses_a_huge_body_and_other_paths_refuse_writes(stack: Stack) -> None:
    huge = web(
        stack,
        "/api/contact",
        "POST",
        data=b"x" * ((1 << 20) + 1),
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    refused = web(stack, "/staff/", "POST", data=b"{}")
    assert refused.status_code == 405 and refused.json()["error"]["code"] == "method_not_allowed"
