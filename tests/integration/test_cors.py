"""CORS on the public routes: only the origins in STEWARD_ALLOWED_ORIGINS may call them from
a browser, each answered with its own origin (never `*`), preflight included."""

from __future__ import annotations

import pytest
import requests

from devstack.stack import Stack

STRANGER = "https://attacker.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,idempotency-key",
}


@pytest.mark.parametrize("path", ["/donations", "/donations/d_x/confirm", "/signups", "/contact"])
def test_a_configured_origin_passes_the_preflight(stack: Stack, other_origin: str, path: str) -> None:
    for origin in (stack.config.web_url, other_origin):
        answer = requests.options(
            stack.config.api_url + path, headers={"Origin": origin, **PREFLIGHT}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        assert "Idempotency-Key" in answer.headers["Access-Control-Allow-Headers"]
        assert "POST" in answer.headers["Access-Control-Allow-Methods"]
        assert "Origin" in answer.headers["Vary"]


@pytest.mark.parametrize("path", ["/donations", "/signups", "/contact"])
def test_any_other_origin_is_refused_at_the_preflight(stack: Stack, path: str) -> None:
    for origin in (STRANGER, "null", stack.config.web_url + ".attacker.example"):
        answer = requests.options(
            stack.config.api_url + path, headers={"Origin": origin, **PREFLIGHT}, timeout=10
        )
        assert answer.status_code == 403
        assert "Access-Control-Allow-Origin" not in answer.headers
        assert answer.json()["error"]["fields"][0]["field"] == "Origin"


def test_answers_name_only_a_configured_origin(stack: Stack, other_origin: str) -> None:
    url = stack.config.api_url
    config = requests.get(url + "/config", headers={"Origin": other_origin}, timeout=10)
    assert config.headers["Access-Control-Allow-Origin"] == other_origin
    assert "Origin" in config.headers["Vary"]
    # an error answer too, so the page can show the fields it names
    refused = requests.post(url + "/signups", json={}, headers={"Origin": other_origin}, timeout=10)
    assert refused.status_code == 422 and refused.headers["Access-Control-Allow-Origin"] == other_origin
    campaign = requests.get(url + "/campaigns/progress-test", headers={"Origin": other_origin}, timeout=10)
    assert campaign.headers["Access-Control-Allow-Origin"] == other_origin  # a page's progress bar
    stranger = requests.get(url + "/config", headers={"Origin": STRANGER}, timeout=10)
    assert stranger.status_code == 200 and "Access-Control-Allow-Origin" not in stranger.headers
    staff = requests.get(url + "/staff/donations", headers={"Origin": other_origin}, timeout=10)
    assert "Access-Control-Allow-Origin" not in staff.headers  # the dashboard calls through its own origin
