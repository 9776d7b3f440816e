"""The local web server in front of the dashboard: its files, the pinned npm files, and the
/api/ pass-through to the API (as CloudFront's /api/* behavior does on AWS)."""

from __future__ import annotations

import socket
import time
import urllib.parse
from typing import Any

import requests

from devstack import npm, web_server
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
    assert answer.status_code == 200 and isinstance(answer.json()["rows"], list)
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


def test_the_demo_site_is_served_with_its_policy_and_the_stacks_api(stack: Stack) -> None:
    stripe_js = urllib.parse.urlsplit(
        requests.get(f"{stack.config.api_url}/config", timeout=10).json()["stripe_js_url"]
    )
    for path in ("/", "/index.html", "/privacy.html"):
        for method in ("GET", "HEAD"):
            answer = web(stack, path, method)
            assert answer.status_code == 200, (path, method)
            policy = answer.headers["Content-Security-Policy"]
            # the Stripe.js GET /config names (localstripe's here)
            assert policy.startswith(
                f"default-src 'self'; script-src 'self' {stripe_js.scheme}://{stripe_js.netloc};"
            )
            assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
            assert answer.headers["X-Frame-Options"] == "DENY"
    page = web(stack, "/").text
    assert f'data-api="{stack.config.api_url}"' in page and 'data-api="http://127.0.0.1:8000"' not in page


def raw(stack: Stack, request: bytes, wait: float = 5.0) -> bytes:
    """One request written to the web server byte for byte; its whole answer (b"" if none)."""
    with socket.create_connection(("127.0.0.1", stack.config.web_port), timeout=wait) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_every_spelling_of_the_dashboards_path_gets_its_policy(stack: Stack) -> None:
    for path in ("/%73taff/", "/./staff/", "/staff/./index.html", "/x/../staff/", "/%73taff/staff.js"):
        answer = requests.get(stack.config.web_url + path, timeout=10)
        assert answer.status_code == 200, path
        assert "frame-ancestors 'none'" in answer.headers.get("Content-Security-Policy", ""), path
        assert answer.headers.get("X-Frame-Options") == "DENY", path
    # a request line the server refuses is still answered, with its own status
    assert raw(stack, b"GET /staff/" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.0 414")
    assert b"505" in raw(stack, b"GET /staff/ HTTP/9.9\r\n\r\n")  # answered the HTTP/0.9 way, no head


def test_every_spelling_of_a_demo_page_gets_its_policy_and_the_stacks_api(stack: Stack) -> None:
    for path in ("/", "/./", "/%69ndex.html", "/x/../index.html", "/./privacy.html"):
        answer = requests.get(stack.config.web_url + path, timeout=10)
        assert answer.status_code == 200, path
        assert "frame-ancestors 'none'" in answer.headers.get("Content-Security-Policy", ""), path
        assert answer.headers.get("X-Frame-Options") == "DENY", path
    page = web(stack, "/%69ndex.html").text
    assert f'data-api="{stack.config.api_url}"' in page


def test_the_apis_pages_keep_their_own_policy_through_the_pass_through(stack: Stack) -> None:
    direct = requests.get(stack.config.api_url + "/signups/confirm", params={"token": "x"}, timeout=10)
    passed = web(stack, "/api/signups/confirm?token=x")
    assert passed.status_code == direct.status_code and passed.headers["Content-Type"].startswith("text/html")
    policy = passed.headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert passed.headers.get("X-Robots-Tag") == "noindex"


def test_the_pass_through_answers_every_malformed_body_or_path_in_time(stack: Stack) -> None:
    head = b"POST /api/contact HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    refused = {
        b"Content-Length: -1\r\n\r\n{}": b"400",
        b"Content-Length: abc\r\n\r\n{}": b"400",
        b"Content-Length: \xb2\r\n\r\n{}": b"400",  # "\u00b2", a digit to str.isdigit, not to int
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n": b"411",
    }
    for headers, status in refused.items():
        answer = raw(stack, head + headers)
        assert answer.startswith(b"HTTP/1.0 " + status), (headers, answer[:80])
        assert b'"error"' in answer
    for target in (b"/api/health\x7f", b"/api/health\xc3\xa9", b"/api/a\x01b"):
        answer = raw(stack, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.0 400"), (target, answer[:80])
    # an absolute URL as the target reaches the same API path, never another host
    answer = raw(stack, b"GET http://evil.example/api/health HTTP/1.1\r\nHost: evil.example\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 200"), answer[:80]


def test_a_body_that_stops_half_way_is_dropped_in_bounded_time(stack: Stack) -> None:
    started = time.monotonic()
    head = b"POST /api/contact HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    answer = raw(stack, head + b"{", wait=web_server.BODY_SECONDS + 10)
    assert answer.startswith(b"HTTP/1.0 408") and b"request_timeout" in answer
    assert time.monotonic() - started < web_server.BODY_SECONDS + 5
    # a body sent a byte at a time, each in time, still has to arrive whole in BODY_SECONDS
    with socket.create_connection(("127.0.0.1", stack.config.web_port), timeout=30) as sock:
        sock.sendall(head)
        started = time.monotonic()
        sock.settimeout(1.0)
        answer = b""
        while not answer and time.monotonic() - started < web_server.BODY_SECONDS + 5:
            try:
                sock.sendall(b" ")
                answer = sock.recv(65536)
            except TimeoutError:
                continue
        assert answer.startswith(b"HTTP/1.0 408"), answer[:80]
        assert time.monotonic() - started < web_server.BODY_SECONDS + 5
