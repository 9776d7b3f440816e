"""The card page's CSP lets Stripe.js do what it does at Stripe, not only at localstripe
(where one origin serves the script, the API and the frames)."""

from __future__ import annotations

from chalicelib.api.pages import page, stripe_sources


def policy_of(js_url: str, api_base: str | None) -> dict[str, list[str]]:
    answer = page("Update your card", "<p>x</p>", script="1", stripe=stripe_sources(js_url, api_base))
    header = answer.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def test_at_stripe_the_page_allows_its_api_and_its_3ds_frames() -> None:
    csp = policy_of("https://js.stripe.com/v3/", None)
    assert "https://js.stripe.com" in csp["script-src"] and "'unsafe-inline'" not in csp["script-src"]
    assert "https://api.stripe.com" in csp["connect-src"]  # confirmCardSetup calls the API
    assert {"https://js.stripe.com", "https://hooks.stripe.com"} <= set(csp["frame-src"])
    assert csp["default-src"] == ["'none'"]


def test_locally_one_origin_serves_script_api_and_frames() -> None:
    csp = policy_of("http://127.0.0.1:8420/js.stripe.com/v3/", "http://127.0.0.1:8420")
    assert csp["connect-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert csp["frame-src"] == ["http://127.0.0.1:8420"]


def test_pages_without_stripe_open_nothing_to_it() -> None:
    header = page("Receipt", "<p>x</p>").headers["Content-Security-Policy"]
    assert "connect-src" not in header and "frame-src" not in header and "stripe" not in header
