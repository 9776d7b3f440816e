"""The demo site's CSP (devstack/web_server.py): what Stripe.js needs, locally and with
production settings, and nothing inline."""

from __future__ import annotations

from devstack.web_server import demo_policy

API = "http://127.0.0.1:8000"


def directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def test_locally_it_allows_localstripe_for_script_api_and_frames() -> None:
    d = directives(demo_policy(API, "http://127.0.0.1:8420/js.stripe.com/v3/"))
    assert d["script-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert d["connect-src"] == ["'self'", API, "http://127.0.0.1:8420"]
    assert d["frame-src"] == ["http://127.0.0.1:8420"]


def test_with_production_settings_it_allows_stripe_and_no_emulator() -> None:
    policy = demo_policy("https://api.example.org", "https://js.stripe.com/v3/")
    d = directives(policy)
    assert d["script-src"] == ["'self'", "https://js.stripe.com"]
    assert d["connect-src"][:2] == ["'self'", "https://api.example.org"]
    assert "https://api.stripe.com" in d["connect-src"]  # as the donor pages allow it
    assert d["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert "127.0.0.1" not in policy


def test_nothing_inline_and_no_framing() -> None:
    d = directives(demo_policy(API, "https://js.stripe.com/v3/"))
    assert d["default-src"] == ["'self'"] and d["style-src"] == ["'self'"]
    assert d["frame-ancestors"] == ["'none'"] and d["base-uri"] == ["'none'"]
    assert not any("unsafe" in v for values in d.values() for v in values)
